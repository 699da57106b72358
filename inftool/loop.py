"""The loop driver: ingest the toolsets (curated into domains when asked), then `loop.rounds`
rounds of

    [optimize, baseline eval: round 0] → synthesize → gate → store → train → evaluate → re-weight

each step a plain function of the validated config and typed records. Every step writes its
result as a marker (RUN/round_N/<step>.done.json); rerunning the same run dir skips finished
steps and resumes synthesis episode by episode. The trained policy becomes the next round's
assistant (exported back to GGUF for the embedded backend); held-out failures set the next
round's mix. The run ends with a summary table and RUN/report.html.
"""

from __future__ import annotations

import asyncio
import collections
import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inftool.config import EmbeddedLMConfig, HFLMConfig, InftoolConfig, LMConfig, ToolsetConfig, TrainerConfig
from inftool.data import TrajectoryStore, summarize, summary_text, write_exports
from inftool.errors import UserError
from inftool.eval.gaps import next_mix
from inftool.eval.heldout import (
    HeldoutItem,
    build_heldout,
    heldout_summary,
    heldout_table,
    load_or_build_heldout,
    read_items,
    read_results,
    score_heldout,
)
from inftool.gates import DedupGate, GateChain
from inftool.gates.records import GatedTrajectory
from inftool.gates.reward import GatedReward
from inftool.lm import RoleLM
from inftool.mcp import ExternalServer, connect, simulated_server
from inftool.rollout import Agents, Limits, Trajectory, run_synthesis, summary_table
from inftool.scenarios import Scenario, ScenarioSampler
from inftool.specs import Toolset, load_toolset
from inftool.specs.loaders import spec_files
from inftool.train import TrainResult


def resolve_spec_path(path: str, search_dirs: list[Path]) -> Path:
    """A toolset path: absolute; else relative to the cwd; else to a config folder or its recipes."""
    candidate = Path(path).expanduser()
    if candidate.is_absolute() or candidate.exists():
        return candidate
    from inftool.recipes import conf_dir

    for folder in [*search_dirs, conf_dir()]:
        for base in (folder / "recipe", folder):
            if (base / path).exists():
                return base / path
    return candidate


def external_server(toolset_cfg: ToolsetConfig) -> ExternalServer | None:
    if toolset_cfg.mcp_command:
        return ExternalServer(command=toolset_cfg.mcp_command)
    if toolset_cfg.mcp_url:
        return ExternalServer(url=toolset_cfg.mcp_url)
    return None


def list_external(name: str, server: ExternalServer) -> Toolset:
    """An external MCP server's `tools/list` is its raw spec. A command is printed before it runs
    (the trust model let it through: given on the command line, or allowed there)."""
    if server.command:
        print(f"toolsets.{name}: starting the external MCP server: {shlex.join(server.command)}")

    async def listed() -> list:
        async with connect(server) as client:
            return await client.list_tools()

    try:
        tools = asyncio.run(listed())
    except Exception as exc:
        raise UserError(f"toolsets.{name}: cannot list tools of the MCP server '{server.describe()}': {exc}") from None
    return Toolset(name=name, source=server.describe(), source_format="mcp-server", tools=tools)


def ingest(config: InftoolConfig, search_dirs: list[Path]) -> list[Toolset]:
    toolsets = []
    for name, toolset_cfg in config.toolsets.items():
        server = external_server(toolset_cfg)
        if server is not None:
            toolsets.append(list_external(name, server))
            continue
        assert toolset_cfg.path is not None
        path = resolve_spec_path(toolset_cfg.path, search_dirs)
        if not path.exists():
            raise UserError(f"toolsets.{name}.path: no such file or folder '{toolset_cfg.path}'")
        toolset = load_toolset(name, path, toolset_cfg.format, workers=None)  # a folder loads in parallel
        if not toolset.tools:
            first = f": {toolset.issues[0]}" if toolset.issues else ""
            raise UserError(f"toolsets.{name}: no tool could be loaded from '{path}'{first}")
        toolsets.append(toolset)
    return toolsets


def curate_pool(config: InftoolConfig, toolsets: list[Toolset], run_dir: Path) -> list[Toolset]:
    """Spec toolsets → one toolset per domain, near-duplicates merged (external MCP servers stay
    as they are: their calls run on the server under their own name)."""
    from inftool.specs.curate import curate

    external = {name for name, cfg in config.toolsets.items() if external_server(cfg) is not None}
    cfg = config.curation
    curated, report = curate([ts for ts in toolsets if ts.name not in external], cfg.domains, cfg.merge_threshold,
                             cfg.embedder, config.seed)  # fmt: skip
    print(report.table())
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "curation.json").write_text(json.dumps(report.__dict__, indent=1))
    return [*curated, *(ts for ts in toolsets if ts.name in external)]


def build_agents(config: InftoolConfig, lms: dict[str, RoleLM]) -> Agents:
    """Instantiate the agents from their `_target_` nodes (checked against the allow-list at start)."""
    from hydra.utils import instantiate

    built = {}
    for role in ("user", "assistant", "tools"):
        node = getattr(config.agents, role).model_dump(by_alias=True, exclude={"program"})
        agent = instantiate(node)
        program = getattr(config.agents, role).program
        if program:
            agent.load(program)
        agent.set_lm(lms[role])
        built[role] = agent
    models = {role: lm.client.engine.name for role, lm in lms.items()}
    return Agents(user=built["user"], assistant=built["assistant"], tools=built["tools"], models=models)


def print_toolsets(toolsets: list[Toolset]) -> None:
    print(f"{'toolset':<16}{'format':<10}{'files':>6}{'tools':>7}{'issues':>8}")
    for ts in toolsets:
        files = len(spec_files(Path(ts.source)))
        print(f"{ts.name:<16}{ts.source_format:<10}{files:>6}{len(ts.tools):>7}{len(ts.issues):>8}")
        for issue in ts.issues[:5]:
            print(f"  ! {issue}")
        if len(ts.issues) > 5:
            print(f"  ! … {len(ts.issues) - 5} more in spec_issues.jsonl")


def save_toolsets(toolsets: list[Toolset], run_dir: Path) -> None:
    """An index of the pool (a line per toolset: its tools' names, domains and sources; the
    schemas stay in the specs, and each trajectory carries the ones it offered)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "toolsets.jsonl").open("w") as out:
        for ts in toolsets:
            tools = [t.model_dump(include={"name", "domain", "source"}) for t in ts.tools]
            out.write(json.dumps({"name": ts.name, "source": ts.source, "format": ts.source_format, "tools": tools})
                      + "\n")  # fmt: skip


def save_issues(toolsets: list[Toolset], run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "spec_issues.jsonl").open("w") as out:
        for ts in toolsets:
            for issue in ts.issues:
                out.write(json.dumps({"toolset": ts.name, **issue.model_dump()}) + "\n")


def build_gates(config: InftoolConfig, lms: dict[str, RoleLM]) -> GateChain:
    from hydra.utils import instantiate

    gates = []
    for node in config.gates.chain:
        if not node.enabled:
            continue
        gate = instantiate(node.model_dump(by_alias=True, exclude={"enabled"}))
        if hasattr(gate, "set_lm"):  # the judge gate uses the `judge` role's LM
            gate.set_lm(lms["judge"])
        gates.append(gate)
    return GateChain(gates)


def synthesize_round(config: InftoolConfig, scenarios: list[Scenario], lms: dict[str, RoleLM], round_dir: Path,
                     seen: list[GatedTrajectory] = ()) -> list[GatedTrajectory]:  # type: ignore[assignment]  # fmt: skip
    """Synthesize → gate → store in `round_dir`, resuming what is already stored there; then
    export and summarize. `seen`: earlier rounds' items, whose accepted requests stay refused
    as duplicates. Returns the round's gated trajectories (a resumed run's earlier ones too)."""
    agents = build_agents(config, lms)
    chain = build_gates(config, lms)
    store = TrajectoryStore(round_dir / "data", config.data.shard_lines)
    for gate in chain.gates:  # a resumed run still refuses duplicates of what it already accepted
        if isinstance(gate, DedupGate):
            for item in [*seen, *store.read("accepted")]:
                if item.accepted:
                    gate.remember(item.trajectory)
    todo = [s for s in scenarios if s.id not in store.done]
    if len(todo) < len(scenarios):
        print(f"resuming: {len(scenarios) - len(todo)} of {len(scenarios)} episodes already in {store.folder}")
    limits = Limits(max_turns=config.synthesis.max_turns, max_calls=config.synthesis.max_calls)
    external = {name: s for name, cfg in config.toolsets.items() if (s := external_server(cfg)) is not None}

    def gate_and_store(traj: Trajectory) -> str:
        item = chain(traj)
        store.add(item)
        return "accepted" if item.accepted else "rejected"

    with store:
        trajectories = run_synthesis(
            todo, agents, limits, config.synthesis.concurrency, external=external, on_done=gate_and_store
        )
    print(summary_table(trajectories))
    items = [*store.read("accepted"), *store.read("rejected")]  # this run's and any earlier run's
    summary = summarize(items)
    (round_dir / "run_summary.json").write_text(json.dumps(summary, indent=2))
    print()
    print(summary_text(summary))
    written = write_exports([i for i in items if i.accepted], round_dir / "exports", config.data.exports)
    print("exports: " + ", ".join(f"{fmt} {n} rows" for fmt, n in written.items()) + f" in {round_dir / 'exports'}")
    return items


def report_training(result: TrainResult | Path | None) -> None:
    if isinstance(result, Path):
        print(f"trainer: OpenRLHF job written to {result} (submit it with: bash {result / 'launch.sh'})")
    elif result is not None:
        rewards = ", ".join(f"{r:.2f}" for r in result.rewards) or "n/a"
        print(f"trainer: {result.steps} steps, {result.seconds_per_step:.1f} s/step, reward per step [{rewards}]")
        print(f"trainer: checkpoint {result.checkpoint} (use it: lm@lm.assistant=hf lm.assistant.path=...)")


def serve(config: InftoolConfig, toolsets: list[Toolset]) -> None:
    from inftool.agents import ToolServer
    from inftool.lm import build_lms
    from inftool.mcp.serve import serve_http, serve_stdio

    by_name = {ts.name: ts for ts in toolsets}
    if config.toolset not in by_name:
        raise UserError(f"toolset: serve mode needs toolset=NAME, one of: {', '.join(by_name) or 'none defined'}")
    tool_server = ToolServer()
    tool_server.set_lm(build_lms(config.lm, roles=("tools",))["tools"])
    server = simulated_server(by_name[config.toolset].tools, tool_server, name=f"inftool-{config.toolset}")
    if config.serve.transport == "stdio":
        serve_stdio(server)
    else:
        serve_http(server, config.serve.host, config.port, config.serve.token_env)


def evaluate_bfcl_step(config: InftoolConfig, client: Any, out_dir: Path) -> dict[str, float]:
    """BFCL accuracy of `client` per configured category; per-item results in OUT/bfcl.jsonl."""
    from inftool.eval import accuracy_table, evaluate_bfcl

    cfg = config.eval
    accuracy = evaluate_bfcl(client, cfg.categories, out_dir / "bfcl.jsonl", cfg.limit, cfg.seed, cfg.concurrency,
                             max_steps=cfg.multi_turn_steps)  # fmt: skip
    print(accuracy_table(accuracy))
    return accuracy


def evaluate(config: InftoolConfig, run_dir: Path) -> dict[str, float]:
    """mode=eval: BFCL only, for `lm.assistant`, or, with `eval.rescore=PATH`, the saved results
    of an earlier run scored again without generating; results in RUN/eval/."""
    from inftool.eval import accuracy_table, bfcl_record, rescore_bfcl
    from inftool.lm import build_lms

    if config.eval.rescore:
        accuracy, changed = rescore_bfcl(Path(config.eval.rescore).expanduser(), run_dir / "eval" / "bfcl.jsonl")
        print(accuracy_table(accuracy))
        print(f"re-scored {sum(accuracy.sizes.values())} saved items: {changed} verdicts changed")
    else:
        client = build_lms(config.lm, roles=("assistant",))["assistant"].client
        accuracy = evaluate_bfcl_step(config, client, run_dir / "eval")
    print(f"per-item results: {run_dir / 'eval' / 'bfcl.jsonl'}")
    (run_dir / "eval" / "bfcl_accuracy.json").write_text(json.dumps(bfcl_record(accuracy), indent=2))
    return accuracy


@dataclass
class RoundInputs:
    """What a round starts from: the policy and the mix the previous round left behind."""

    assistant: LMConfig
    trainer: TrainerConfig
    weights: dict[str, float]
    domain_weights: dict[str, float] | None = None
    variations: list[Scenario] = field(default_factory=list)


def step(round_dir: Path, name: str, work: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """`work(*args)` unless its marker exists; the marker (its result) is written atomically."""
    marker = round_dir / f"{name}.done.json"
    if marker.is_file():
        print(f"{round_dir.name}: {name} finished earlier (marker {marker.name}), skipped")
        return json.loads(marker.read_text())
    print(f"\n== {round_dir.name}: {name} ==")
    round_dir.mkdir(parents=True, exist_ok=True)
    result = work(*args)
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2, default=str))
    tmp.replace(marker)
    return result


def round_scenarios(config: InftoolConfig, toolsets: list[Toolset], index: int, inputs: RoundInputs) -> list[Scenario]:
    """Each round samples with its own seed; the previous round's variations come first."""
    sampler = ScenarioSampler(toolsets, config.scenarios.distractors, config.seed + 1000 * index,
                              config.scenarios.personas)  # fmt: skip
    fresh = max(0, config.synthesis.episodes - len(inputs.variations))
    return [*inputs.variations, *sampler.sample(fresh, inputs.weights, inputs.domain_weights)][
        : config.synthesis.episodes
    ]


def synthesis_record(items: list[GatedTrajectory]) -> dict[str, Any]:
    """The synthesize marker: the gate summary plus the mix and the tokens per accepted episode."""

    def tokens(trajectories: list[Trajectory]) -> float | None:
        totals = [sum(u["prompt_tokens"] + u["completion_tokens"] for u in t.usage.values()) for t in trajectories]
        return sum(totals) / len(totals) if totals else None

    mix = collections.Counter(i.trajectory.scenario.kind for i in items)
    return {**summarize(items), "mix": dict(mix), "tokens_per_episode": tokens([i.trajectory for i in items]),
            "tokens_per_accepted": tokens([i.trajectory for i in items if i.accepted])}  # fmt: skip


def train_step(config: InftoolConfig, items: list[GatedTrajectory], round_dir: Path) -> dict[str, Any]:
    from inftool.train import train
    from inftool.train.local import EMBEDDED_HF_CACHE

    result = train(config, items, round_dir, EMBEDDED_HF_CACHE)
    report_training(result)
    if isinstance(result, Path):
        return {"job": str(result)}
    if result is None:
        return {"skipped": True}
    record: dict[str, Any] = {"checkpoint": str(result.checkpoint), "steps": result.steps,
                              "seconds_per_step": result.seconds_per_step, "rewards": result.rewards}  # fmt: skip
    if isinstance(config.lm.assistant, EmbeddedLMConfig):  # serve the policy as the base model was served
        from inftool.lm.embedded import default_model_path
        from inftool.lm.hf import export_hf_to_gguf

        template = Path(config.lm.assistant.model_path or default_model_path())
        gguf = round_dir / "train" / f"policy-{round_dir.name}.gguf"  # a name per round: caches key on it
        record["gguf"] = str(export_hf_to_gguf(result.checkpoint, template, gguf, config.loop.policy_dtype))
    return record


def next_inputs(config: InftoolConfig, inputs: RoundInputs, trained: dict[str, Any] | None,
                mix: dict[str, Any] | None) -> RoundInputs:  # fmt: skip
    """The trained checkpoint becomes the assistant (and the trainer's base); the gap report's
    weights and variations become the mix."""
    assistant, trainer = inputs.assistant, inputs.trainer
    if trained and trained.get("gguf") and isinstance(assistant, EmbeddedLMConfig):
        # As exported (f32 by default): requantizing would erase the small RL updates again.
        assistant = assistant.model_copy(update={"model_path": trained["gguf"], "quantize": None})
    elif trained and trained.get("checkpoint"):
        temperature = assistant.temperature
        assistant = HFLMConfig(path=trained["checkpoint"], temperature=temperature)
    if trained and trained.get("checkpoint") and hasattr(trainer, "base"):
        trainer = trainer.model_copy(update={"base": trained["checkpoint"]})
    if not mix:
        return RoundInputs(assistant, trainer, inputs.weights, inputs.domain_weights)
    variations = [Scenario.model_validate(s) for s in mix["variations"]]
    return RoundInputs(assistant, trainer, mix["weights"], mix["domain_weights"], variations)


class Evaluator:
    """BFCL + the held-out set for whichever assistant a round has; the set is built once."""

    def __init__(self, config: InftoolConfig, toolsets: list[Toolset], run_dir: Path) -> None:
        self.config, self.toolsets, self.run_dir = config, toolsets, run_dir
        self.items: list[HeldoutItem] | None = None

    def heldout(self, agents: Agents) -> list[HeldoutItem]:
        if self.items is None:
            cfg, config = self.config.loop.heldout, self.config

            def build() -> list[HeldoutItem]:
                return build_heldout(self.toolsets, agents.user, agents.assistant.system_prompt, cfg.items, cfg.seed,
                                     config.scenarios.weights, config.scenarios.distractors,
                                     config.scenarios.personas, config.synthesis.concurrency)  # fmt: skip

            self.items = load_or_build_heldout(self.run_dir / "heldout" / "items.jsonl", build) if cfg.items else []
        return self.items

    def __call__(self, config: InftoolConfig, lms: dict[str, RoleLM], out_dir: Path) -> dict[str, Any]:
        from inftool.eval import bfcl_summary

        record: dict[str, Any] = {"assistant": lms["assistant"].client.engine.name}
        if config.eval.categories:
            bfcl = evaluate_bfcl_step(config, lms["assistant"].client, out_dir)
            record["bfcl"], record["bfcl_summary"] = bfcl, bfcl_summary(bfcl)
        agents = build_agents(config, lms)
        items = self.heldout(agents)
        if items:
            results = score_heldout(items, agents.assistant, out_dir / "heldout.jsonl", config.eval.concurrency,
                                    config.seed)  # fmt: skip
            record["heldout"] = heldout_summary(results)
            print(heldout_table(record["heldout"]))
        return record


def synthesize_step(config: InftoolConfig, scenarios: list[Scenario], lms: dict[str, RoleLM], round_dir: Path,
                    seen: list[GatedTrajectory], out: list[GatedTrajectory]) -> dict[str, Any]:  # fmt: skip
    """Synthesize the round; its items also land in `out` (the marker keeps only the summary)."""
    out += synthesize_round(config, scenarios, lms, round_dir, seen)
    return synthesis_record(out)


def with_assistant(config: InftoolConfig, assistant: LMConfig, trainer: TrainerConfig) -> InftoolConfig:
    return config.model_copy(update={"lm": config.lm.model_copy(update={"assistant": assistant}), "trainer": trainer})


def with_programs(config: InftoolConfig, programs: dict[str, str]) -> InftoolConfig:
    """The config with `agents.<role>.program` set for each role in `programs`."""
    updates = {role: getattr(config.agents, role).model_copy(update={"program": path})
               for role, path in programs.items()}  # fmt: skip
    return config.model_copy(update={"agents": config.agents.model_copy(update=updates)})


def with_saved_programs(config: InftoolConfig, recipe: Path | None) -> InftoolConfig:
    """`recipes/NAME.<agent>.json` beside the recipe is loaded when `agents.<agent>.program` is unset."""
    saved = {}
    for role in ("user", "assistant", "tools") if recipe else ():
        path = recipe.with_name(f"{recipe.stem}.{role}.json")
        if getattr(config.agents, role).program is None and path.is_file():
            print(f"agents.{role}: loading the optimized program {path}")
            saved[role] = str(path)
    return with_programs(config, saved)


def optimize_step(config: InftoolConfig, toolsets: list[Toolset], lms: dict[str, RoleLM], run_dir: Path,
                  recipe: Path | None) -> dict[str, Any]:  # fmt: skip
    """Compile the chosen agents (round 0, before synthesis); returns per agent its saved program."""
    from inftool.optimize import compile as opt
    from inftool.optimize import compile_agents, program_paths

    cfg, agents = config.optimize, build_agents(config, lms)
    sampler = ScenarioSampler(toolsets, config.scenarios.distractors, config.seed + 777, config.scenarios.personas,
                              prefix="o")  # fmt: skip
    scenarios = sampler.sample(cfg.examples, config.scenarios.weights)
    limits = Limits(max_turns=config.synthesis.max_turns, max_calls=config.synthesis.max_calls)
    trainees: dict[str, Any] = {}
    if "tools" in cfg.agents:
        trainees["tools"] = (opt.tools_trainee(agents.tools), opt.tools_examples(toolsets, cfg.examples, config.seed),
                             opt.tool_result_metric)  # fmt: skip
    if "user" in cfg.agents:
        trainees["user"] = (opt.user_trainee(agents, build_gates(config, lms), limits),
                            opt.scenario_examples(scenarios), opt.accepted_metric)  # fmt: skip
    if "assistant" in cfg.agents:
        examples = asyncio.run(opt.assistant_examples(scenarios, agents.user, agents.assistant.system_prompt))
        reward = GatedReward(config.gates.reward.names, config.gates.reward.arguments)
        trainees["assistant"] = (opt.assistant_trainee(agents.assistant), examples, opt.reward_metric(reward))
    return compile_agents(cfg, trainees, lms, program_paths(recipe, run_dir, cfg.save_to))


def run_rounds(config: InftoolConfig, toolsets: list[Toolset], run_dir: Path,
               recipe: Path | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The closed loop; returns one record per round (its steps' markers)."""
    from inftool.lm import build_lms, configure_cache, usage_table, write_usage

    configure_cache(run_dir)
    lms = build_lms(config.lm)  # an unreachable endpoint stops the run here, before any episode
    stages, evaluator = set(config.loop.stages), Evaluator(config, toolsets, run_dir)
    inputs = RoundInputs(config.lm.assistant, config.trainer, config.scenarios.weights)
    served = config.lm.assistant  # the config lms["assistant"] was built from
    history: list[dict[str, Any]] = []
    seen: list[GatedTrajectory] = []

    def serve(assistant: LMConfig) -> InftoolConfig:
        nonlocal served
        round_config = with_assistant(config, assistant, inputs.trainer)
        if assistant != served:
            lms["assistant"] = build_lms(round_config.lm, roles=("assistant",))["assistant"]
            served = assistant
        return round_config

    compiled: dict[str, Any] = {}
    if "optimize" in stages:  # round 0, first: the compiled programs serve every later step
        compiled = step(run_dir / "round_0", "optimize", optimize_step, config, toolsets, lms, run_dir, recipe)
        config = with_programs(config, {role: r["program"] for role, r in compiled.items()})
    for index in range(config.loop.rounds):
        round_dir = run_dir / f"round_{index}"
        round_config = serve(inputs.assistant)
        record: dict[str, Any] = {"round": index, "weights": inputs.weights, "domain_weights": inputs.domain_weights}
        if index == 0 and compiled:
            record["optimize"] = compiled
        latest_eval = None
        if index == 0 and "eval" in stages and config.loop.baseline:
            latest_eval = record["baseline"] = step(round_dir, "baseline", evaluator, round_config, lms,
                                                    round_dir / "baseline")  # fmt: skip
        items: list[GatedTrajectory] = []
        if "synthesize" in stages:
            scenarios = round_scenarios(config, toolsets, index, inputs)
            record["synthesize"] = step(round_dir, "synthesize", synthesize_step, round_config, scenarios, lms,
                                        round_dir, seen, items)  # fmt: skip
        if not items and ("synthesize" in stages or "train" in stages):  # synthesized by an earlier run
            store = TrajectoryStore(round_dir / "data", config.data.shard_lines)
            items = [*store.read("accepted"), *store.read("rejected")]
        trained = None
        if "train" in stages:
            trained = record["train"] = step(round_dir, "train", train_step, round_config, items, round_dir)
        seen += items
        after = next_inputs(config, inputs, trained, None)
        if "eval" in stages and after.assistant != inputs.assistant:
            latest_eval = record["eval"] = step(round_dir, "eval", evaluator, serve(after.assistant), lms,
                                                round_dir / "eval")  # fmt: skip
        mix = None
        if "reweight" in stages and latest_eval and latest_eval.get("heldout"):
            mix = record["reweight"] = step(round_dir, "reweight", reweight, config, evaluator, round_dir, inputs,
                                            index)  # fmt: skip
        history.append(record)
        inputs = next_inputs(config, inputs, trained, mix)
    print()
    print(usage_table(lms))
    write_usage(lms, run_dir)
    finish(history, run_dir)
    return history


def reweight(config: InftoolConfig, evaluator: Evaluator, round_dir: Path, inputs: RoundInputs,
             index: int) -> dict[str, Any]:  # fmt: skip
    """Held-out failures of this round's latest evaluation → the next round's mix."""
    folder = round_dir / ("eval" if (round_dir / "eval" / "heldout.jsonl").is_file() else "baseline")
    results = read_results(folder / "heldout.jsonl")
    items = read_items(evaluator.run_dir / "heldout" / "items.jsonl")  # written by that evaluation
    mix = next_mix(items, results, inputs.weights, [ts.name for ts in evaluator.toolsets],
                   config.loop.weight_floor, config.loop.variations, index, config.seed)  # fmt: skip
    print("next round's kind weights: " + ", ".join(f"{k} {w:.2f}" for k, w in mix["weights"].items()))
    print(f"next round's variations of failed held-out items: {len(mix['variations'])}")
    return mix


def finish(history: list[dict[str, Any]], run_dir: Path) -> None:
    from inftool.report import loop_table, write_report

    (run_dir / "loop_summary.json").write_text(json.dumps(history, indent=2, default=str))
    print()
    print(loop_table(history))
    print(f"report: {write_report(history, run_dir)}")


def run(
    config: InftoolConfig, run_dir: Path, search_dirs: list[Path] = (), recipe: Path | None = None
) -> list[Toolset]:  # type: ignore[assignment]
    if config.mode == "eval":
        evaluate(config, run_dir)
        return []
    toolsets = ingest(config, list(search_dirs))
    if config.mode == "serve":
        serve(config, toolsets)
        return toolsets
    print_toolsets(toolsets)
    save_issues(toolsets, run_dir)
    if config.curation.enabled:
        toolsets = curate_pool(config, toolsets, run_dir)
    save_toolsets(toolsets, run_dir)
    if config.mode == "run":
        run_rounds(with_saved_programs(config, recipe), toolsets, run_dir, recipe)
    print(f"run dir: {run_dir}")
    return toolsets
