"""Synthesize a round: its scenarios → episodes (user ⇄ assistant ⇄ tools over MCP) → gated →
stored, resumably; then exports and the round's summary (the synthesize marker)."""

from __future__ import annotations

import collections
import itertools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from inftool.config import InftoolConfig
from inftool.data import ExportWriter, SummaryTally, TrajectoryStore, summary_text
from inftool.gates import DedupGate, GateChain
from inftool.gates.records import GatedTrajectory
from inftool.lm import RoleLM
from inftool.loop.build import build_agents, build_gates
from inftool.loop.records import RoundInputs
from inftool.loop.shards import run_sharded
from inftool.loop.toolsets import external_server
from inftool.rollout import Limits, Trajectory, run_synthesis, summary_table
from inftool.scenarios import Scenario, ScenarioSampler
from inftool.specs import Toolset


def round_episodes(config: InftoolConfig, index: int) -> int:
    """Round `index`'s episode count: `loop.episodes` (its last entry repeats), else `synthesis.episodes`."""
    counts = config.loop.episodes
    return counts[min(index, len(counts) - 1)] if counts else config.synthesis.episodes


def round_scenarios(config: InftoolConfig, toolsets: list[Toolset], index: int, inputs: RoundInputs) -> list[Scenario]:
    """Each round samples with its own seed; the previous round's variations come first."""
    scenarios = config.scenarios
    sampler = ScenarioSampler(toolsets, scenarios.distractors, config.seed + 1000 * index, scenarios.personas,
                              near_irrelevance=scenarios.near_irrelevance,
                              near_distractors=scenarios.near_distractors, contrast=scenarios.contrast)  # fmt: skip
    episodes = round_episodes(config, index)
    fresh = max(0, episodes - len(inputs.variations))
    return [*inputs.variations, *sampler.sample(fresh, inputs.weights, inputs.domain_weights)][:episodes]


def synthesis_record(items: Iterable[GatedTrajectory]) -> dict[str, Any]:
    """The synthesize marker: the gate summary plus the mix and the tokens per accepted episode,
    in one pass over `items` (a round's store streams through it)."""
    tally, mix = SummaryTally(), collections.Counter[str]()
    tokens = {"episode": [0, 0], "accepted": [0, 0]}  # [total tokens, episodes]
    for item in items:
        tally.add(item)
        mix[item.trajectory.scenario.kind] += 1
        total = sum(u["prompt_tokens"] + u["completion_tokens"] for u in item.trajectory.usage.values())
        for key in ("episode", "accepted") if item.accepted else ("episode",):
            tokens[key][0] += total
            tokens[key][1] += 1
    mean = {key: total / count if count else None for key, (total, count) in tokens.items()}
    return {**tally.result(), "mix": dict(mix), "tokens_per_episode": mean["episode"],
            "tokens_per_accepted": mean["accepted"]}  # fmt: skip


def seed_dedup(chain: GateChain, items: Iterable[GatedTrajectory]) -> None:
    """Every dedup gate refuses the accepted requests of `items` (earlier rounds, a resumed run's
    own store), read one at a time: one sketch and one LSH insert each, no pairwise scan."""
    gates = [g for g in chain.gates if isinstance(g, DedupGate)]
    if not gates:
        return
    for item in items:
        if item.accepted:
            for gate in gates:
                gate.remember_request(gate.request(item.trajectory))


def synthesize_round(config: InftoolConfig, scenarios: list[Scenario], lms: dict[str, RoleLM], round_dir: Path,
                     seen: Iterable[GatedTrajectory] = ()) -> TrajectoryStore:  # fmt: skip
    """Synthesize → gate → store in `round_dir`, resuming what is already stored there; then
    export and summarize, streaming from the store. `seen`: earlier rounds' items (an iterator
    is enough), whose accepted requests stay refused as duplicates. Returns the round's store:
    iterating it reads the round's gated trajectories (a resumed run's earlier ones too)."""
    agents = build_agents(config, lms)
    chain = build_gates(config, lms)
    store = TrajectoryStore(round_dir / "data", config.data.shard_lines)
    seed_dedup(chain, itertools.chain(seen, store.read("accepted")))  # a resumed run still refuses its own
    before = set(store.done)
    todo = [s for s in scenarios if s.id not in store.done]
    if len(todo) < len(scenarios):
        print(f"resuming: {len(scenarios) - len(todo)} of {len(scenarios)} episodes already in {store.folder}")
    limits = Limits.of(config.synthesis)
    external = {name: s for name, cfg in config.toolsets.items() if (s := external_server(cfg)) is not None}

    def gate_and_store(traj: Trajectory) -> str:
        item = chain(traj)
        store.add(item)
        return "accepted" if item.accepted else "rejected"

    with store:
        if config.engine.kind == "ray":  # the same episodes sharded over Ray workers, gated and stored here
            run_sharded(config, todo, gate_and_store, keep=False)
        else:
            run_synthesis(todo, agents, limits, config.synthesis.concurrency, external=external,
                          on_done=gate_and_store, keep=False)  # fmt: skip
    print(summary_table(i.trajectory for i in store if i.id not in before))  # this run's episodes
    tally = SummaryTally()
    with ExportWriter(round_dir / "exports", config.data.exports) as exports:
        for item in store:  # this run's and any earlier run's
            tally.add(item)
            if item.accepted:
                exports.add(item)
    summary = tally.result()
    (round_dir / "run_summary.json").write_text(json.dumps(summary, indent=2))
    print()
    print(summary_text(summary))
    written = exports.written
    print("exports: " + ", ".join(f"{fmt} {n} rows" for fmt, n in written.items()) + f" in {round_dir / 'exports'}")
    return store


def synthesize_step(config: InftoolConfig, scenarios: list[Scenario], lms: dict[str, RoleLM], round_dir: Path,
                    seen: Iterable[GatedTrajectory] = ()) -> dict[str, Any]:  # fmt: skip
    """Synthesize the round; the marker keeps only the summary (the items stay in the store)."""
    return synthesis_record(synthesize_round(config, scenarios, lms, round_dir, seen))
