"""The closed loop: after ingest (specs → toolsets, curated into domains when asked), `loop.rounds`
rounds of

    [optimize, baseline eval: round 0] → synthesize → gate → store → train → evaluate → re-weight

each step a plain function of the validated config and typed records, in its own file:

    toolsets.py    ingest: specs and MCP servers → toolsets; curation; the pool index and issues
    build.py       the agents and the gate chain, from their `_target_` nodes
    optimize.py    round 0: compile the chosen agents into saved programs
    evaluate.py    BFCL + the held-out set for the round's assistant
    synthesize.py  scenarios → synthesize → gate → store, exports and the round's summary
    train.py       gated trajectories → a checkpoint (and GGUF); the next round's policy
    reweight.py    held-out failures → the next round's mix
    rounds.py      the round driver: each step in order, then the summary and RUN/report.html
    markers.py     `step`: a step's result as a marker (RUN/round_N/<step>.done.json)
    records.py     `RoundInputs`: what a round starts from

Rerunning the same run dir skips finished steps and resumes synthesis episode by episode. The
trained policy becomes the next round's assistant (exported back to GGUF for the embedded
backend); held-out failures set the next round's mix. The modes that are not the loop (serve,
eval, ingest) live outside it, in `inftool.modes`.
"""

from inftool.loop.build import build_agents, build_gates
from inftool.loop.evaluate import Evaluator, evaluate_bfcl_step
from inftool.loop.markers import step
from inftool.loop.optimize import optimize_step, with_programs, with_saved_programs
from inftool.loop.records import RoundInputs
from inftool.loop.rounds import finish, run_rounds, with_assistant
from inftool.loop.synthesize import round_scenarios, synthesis_record, synthesize_round, synthesize_step
from inftool.loop.toolsets import (
    curate_pool,
    external_server,
    ingest,
    list_external,
    print_toolsets,
    resolve_spec_path,
    save_issues,
    save_toolsets,
)
from inftool.loop.train import next_inputs, report_training, train_step

__all__ = [
    "Evaluator",
    "RoundInputs",
    "build_agents",
    "build_gates",
    "curate_pool",
    "evaluate_bfcl_step",
    "external_server",
    "finish",
    "ingest",
    "list_external",
    "next_inputs",
    "optimize_step",
    "print_toolsets",
    "report_training",
    "resolve_spec_path",
    "round_scenarios",
    "run_rounds",
    "save_issues",
    "save_toolsets",
    "step",
    "synthesis_record",
    "synthesize_round",
    "synthesize_step",
    "train_step",
    "with_assistant",
    "with_programs",
    "with_saved_programs",
]
