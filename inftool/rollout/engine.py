"""Many episodes at once (asyncio, bounded), each isolated; results stream to a JSONL file."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Sequence
from pathlib import Path

from tqdm import tqdm

from inftool.mcp import ExternalServer
from inftool.rollout.episode import Agents, Limits, run_episode, trajectory_line
from inftool.rollout.records import Trajectory
from inftool.scenarios import KINDS, Scenario


async def synthesize(
    scenarios: Sequence[Scenario],
    agents: Agents,
    limits: Limits,
    concurrency: int,
    on_done: Callable[[Trajectory], None] | None = None,
    external: dict[str, ExternalServer] | None = None,
) -> list[Trajectory]:
    gate = asyncio.Semaphore(concurrency)
    external = external or {}

    async def one(scenario: Scenario) -> Trajectory:
        async with gate:
            server = external.get(scenario.toolset) if scenario.kind != "irrelevance" else None
            traj = await run_episode(scenario, agents, limits, server)
        if on_done is not None:
            on_done(traj)
        return traj

    return list(await asyncio.gather(*(one(s) for s in scenarios)))


def run_synthesis(
    scenarios: Sequence[Scenario],
    agents: Agents,
    limits: Limits,
    concurrency: int,
    out_path: Path,
    external: dict[str, ExternalServer] | None = None,
    progress: bool = True,
) -> list[Trajectory]:
    """Synthesize with a progress bar, appending each finished trajectory to `out_path` (flushed)."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        out_path.open("a", encoding="utf-8") as out,
        tqdm(total=len(scenarios), unit="episode", desc="synthesize", disable=not progress, dynamic_ncols=True) as bar,
    ):
        failed = 0

        def done(traj: Trajectory) -> None:
            nonlocal failed
            out.write(trajectory_line(traj) + "\n")
            out.flush()
            failed += traj.status == "failed"
            bar.set_postfix(failed=failed)
            bar.update()

        return asyncio.run(synthesize(scenarios, agents, limits, concurrency, done, external))


def summary_table(trajectories: Sequence[Trajectory]) -> str:
    """Episodes per kind, failures by reason, tokens per role."""
    per_kind: dict[str, list[int]] = {k: [0, 0, 0] for k in KINDS}
    reasons: collections.Counter[str] = collections.Counter()
    tokens: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    for traj in trajectories:
        row = per_kind[traj.scenario.kind]
        row[0] += 1
        row[1 if traj.status == "completed" else 2] += 1
        if traj.failure:
            reasons[traj.failure.split(":", 2)[0] + ": " + traj.failure.split(":", 2)[1].strip()] += 1
        for role, u in traj.usage.items():
            tokens[role][0] += u["calls"]
            tokens[role][1] += u["prompt_tokens"]
            tokens[role][2] += u["completion_tokens"]
    lines = [f"{'kind':<20}{'episodes':>9}{'completed':>11}{'failed':>8}"]
    lines += [f"{k:<20}{r[0]:>9}{r[1]:>11}{r[2]:>8}" for k, r in per_kind.items() if r[0]]
    total = [sum(r[i] for r in per_kind.values()) for i in range(3)]
    lines.append(f"{'total':<20}{total[0]:>9}{total[1]:>11}{total[2]:>8}")
    if reasons:
        lines += ["", "failures by reason:"] + [f"  {n:>5}  {reason}" for reason, n in reasons.most_common(8)]
    lines += ["", f"{'role':<12}{'LM calls':>9}{'prompt tok':>12}{'compl tok':>11}"]
    lines += [f"{role:<12}{t[0]:>9}{t[1]:>12}{t[2]:>11}" for role, t in sorted(tokens.items())]
    return "\n".join(lines)
