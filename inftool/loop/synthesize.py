"""Synthesize a round: its scenarios → episodes (user ⇄ assistant ⇄ tools over MCP) → gated →
stored, resumably; then exports and the round's summary (the synthesize marker)."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

from inftool.config import InftoolConfig
from inftool.data import TrajectoryStore, summarize, summary_text, write_exports
from inftool.gates import DedupGate
from inftool.gates.records import GatedTrajectory
from inftool.lm import RoleLM
from inftool.loop.build import build_agents, build_gates
from inftool.loop.records import RoundInputs
from inftool.loop.toolsets import external_server
from inftool.rollout import Limits, Trajectory, run_synthesis, summary_table
from inftool.scenarios import Scenario, ScenarioSampler
from inftool.specs import Toolset


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


def synthesize_step(config: InftoolConfig, scenarios: list[Scenario], lms: dict[str, RoleLM], round_dir: Path,
                    seen: list[GatedTrajectory], out: list[GatedTrajectory]) -> dict[str, Any]:  # fmt: skip
    """Synthesize the round; its items also land in `out` (the marker keeps only the summary)."""
    out += synthesize_round(config, scenarios, lms, round_dir, seen)
    return synthesis_record(out)
