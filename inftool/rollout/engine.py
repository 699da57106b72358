"""Many episodes at once (asyncio, bounded), each isolated; results stream to a JSONL file."""

from __future__ import annotations

import asyncio
import collections
import gc
import queue
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from tqdm import tqdm

from inftool.lm.runtime import runtime
from inftool.mcp import ExternalServer, SimulatedSession
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
    keep: bool = True,
) -> list[Trajectory]:
    """`concurrency` workers pull the scenarios in turn (no task per scenario waits in memory);
    results come back in scenario order, or not at all with `keep=False` (`on_done` sees each)."""
    external = external or {}
    results: list[Trajectory | None] = [None] * len(scenarios) if keep else []
    todo = iter(enumerate(scenarios))

    async def worker() -> None:
        async with SimulatedSession(agents.tools) as session:  # one MCP session per worker, not per episode
            for index, scenario in todo:  # one shared iterator: each scenario runs once
                server = external.get(scenario.toolset) if scenario.kind != "irrelevance" else None
                traj = await run_episode(scenario, agents, limits, server, session=session)
                if on_done is not None:
                    on_done(traj)
                if keep:
                    results[index] = traj

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(scenarios))))))
    return results  # type: ignore[return-value]  # every slot filled when kept


def run_synthesis(
    scenarios: Sequence[Scenario],
    agents: Agents,
    limits: Limits,
    concurrency: int,
    out_path: Path | None = None,
    external: dict[str, ExternalServer] | None = None,
    progress: bool = True,
    on_done: Callable[[Trajectory], str | None] | None = None,
    keep: bool = True,
) -> list[Trajectory]:
    """Synthesize with a progress bar. Each finished trajectory is appended to `out_path` (flushed)
    and handed to `on_done`, whose return value (e.g. "accepted") is counted in the bar; with
    `keep=False` none is kept (a round streams to its store) and the list comes back empty.

    The episodes run on the LM runtime's loop, so their LM calls never cross threads (a hop per call
    cost more CPU than the call on a fast endpoint); writing, `on_done` and the bar stay on this
    thread, where a blocking call (a judge gate's LM) is allowed. Objects alive at the start are
    frozen out of the cyclic collector meanwhile (its full passes over them cost ~8% of the CPU)."""
    if out_path is not None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
    out = out_path.open("a", encoding="utf-8") if out_path is not None else None
    counts: collections.Counter[str] = collections.Counter()
    finished: queue.SimpleQueue[Trajectory | None] = queue.SimpleQueue()
    with tqdm(total=len(scenarios), unit="episode", desc="synthesize", disable=not progress, dynamic_ncols=True) as bar:

        def done(traj: Trajectory) -> None:
            if out is not None:
                out.write(trajectory_line(traj) + "\n")
                out.flush()
            counts["failed"] += traj.status == "failed"
            if on_done is not None and (label := on_done(traj)):
                counts[label] += 1
            bar.set_postfix(dict(counts))
            bar.update()

        freeze = gc.get_freeze_count() == 0  # (unless someone else froze: theirs to undo)
        if freeze:  # what lives now (modules, agents, scenarios) is skipped by the collector's full passes
            gc.freeze()
        future = runtime().submit(synthesize(scenarios, agents, limits, concurrency, finished.put, external, keep))
        future.add_done_callback(lambda _: finished.put(None))  # after every episode's put
        try:
            while (traj := finished.get()) is not None:
                done(traj)
            return future.result()
        finally:
            future.cancel()  # an `on_done` error or Ctrl-C stops the episodes still running
            if freeze:
                gc.unfreeze()
            if out is not None:
                out.close()


def summary_table(trajectories: Iterable[Trajectory]) -> str:
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
