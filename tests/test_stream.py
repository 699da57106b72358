"""Streaming: the store iterates shard by shard, the summary and the exports are fed one item at a
time, training rows come from an iterator, and the engine can keep no trajectory at all."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import dspy
import pyarrow.parquet as pq

from inftool.data import ExportWriter, SummaryTally, TrajectoryStore, summarize, write_exports
from inftool.gates.records import GatedTrajectory, GateResult
from inftool.lm import configure_cache
from inftool.rollout import Limits, Trajectory, run_synthesis
from inftool.scenarios import Scenario
from inftool.train.data import sample_rows
from tests.test_rollout import agents_for, scenarios, servers  # noqa: F401  (servers: a fixture)


def item(index: int, accepted: bool, kind: str = "single") -> GatedTrajectory:
    scenario = Scenario(id=f"e{index}", kind=kind, toolset="t", domain="d", offered=[], targets=[])
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": f"request number {index} of many"},
                {"role": "assistant", "content": "done"}]  # fmt: skip
    gates = [GateResult(gate="format", passed=True), GateResult(gate="schema", passed=accepted, reason="bad 7")]
    return GatedTrajectory(trajectory=Trajectory(id=scenario.id, scenario=scenario, messages=messages), gates=gates,
                           accepted=accepted)  # fmt: skip


def test_the_store_iterates_accepted_then_rejected_across_shards_again_and_again(tmp_path: Path):
    items = [item(i, accepted=i % 3 != 0) for i in range(25)]
    with TrajectoryStore(tmp_path, shard_lines=4) as store:
        for one in items:
            store.add(one)
    assert len(list(tmp_path.glob("accepted-*.jsonl"))) == 4  # 16 accepted in shards of 4
    expected = [i.id for i in items if i.accepted] + [i.id for i in items if not i.accepted]
    assert [i.id for i in store] == expected and [i.id for i in store] == expected  # re-iterable
    assert len(store) == 25


def test_the_summary_fed_one_item_at_a_time_is_the_summary_of_the_list():
    items = [item(i, accepted=i % 4 != 0, kind=("single", "parallel")[i % 2]) for i in range(40)]
    tally = SummaryTally()
    for one in items:
        tally.add(one)
    streamed = tally.result()
    assert streamed == summarize(iter(items)) == summarize(items)
    assert streamed["episodes"] == 40 and streamed["accepted"] == 30
    assert streamed["gate_pass_rate"] == {"format": 1.0, "schema": 0.75}
    assert streamed["top_rejections"] == [("schema: bad N", 10)]
    # 30 accepted "request number N of many": 4 bigrams each; 2 shared by all, 2 their own
    assert streamed["distinct_2gram_ratio"] == (2 + 30 * 2) / (30 * 4)


def test_exports_are_written_row_by_row_and_parquet_in_row_groups(tmp_path: Path):
    items = [item(i, accepted=True) for i in range(7)]
    with ExportWriter(tmp_path, ["openai", "parquet", "openrlhf"]) as writer:
        writer.sinks["parquet"].batch = 3  # three row groups: 3 + 3 + 1
        for one in items:
            writer.add(one)
    assert writer.written == {"openai": 7, "parquet": 7, "openrlhf": 7}
    table = pq.ParquetFile(tmp_path / "trajectories.parquet")
    assert table.num_row_groups == 3 and table.read().column("id").to_pylist() == [i.id for i in items]
    assert json.loads(table.read().column("messages")[0].as_py())[1]["content"] == "request number 0 of many"
    assert write_exports(iter(items), tmp_path / "again", ["sharegpt", "bfcl"]) == {"sharegpt": 7, "bfcl": 0}  # no plan


def test_sampled_rows_are_a_seeded_uniform_reservoir_in_stream_order():
    rows = [{"id": str(i)} for i in range(1000)]
    first = sample_rows(iter(rows), 50, seed=3)
    assert first == sample_rows(iter(rows), 50, seed=3) != sample_rows(iter(rows), 50, seed=4)
    ids = [int(r["id"]) for r in first]
    assert len(ids) == 50 and ids == sorted(ids)
    assert max(ids) > 500  # not the first 50: every row had its chance
    assert sample_rows(iter(rows[:10]), 50, seed=3) == rows[:10] and sample_rows(rows, None, 0) == rows
    counts = [0] * 10
    for seed in range(400):  # each tenth of the stream holds about a tenth of the sample
        for row in sample_rows(iter(rows), 10, seed):
            counts[int(row["id"]) // 100] += 1
    assert min(counts) > 300 and max(counts) < 500, counts


def test_the_engine_keeps_no_trajectory_when_told(servers, tmp_path: Path):  # noqa: F811
    seen: list[str] = []
    kept = run_synthesis(scenarios(12), agents_for(servers), Limits(3, 4), 4, progress=False,
                         on_done=lambda t: seen.append(t.id) or None, keep=False)  # fmt: skip
    assert kept == [] and sorted(seen) == sorted(s.id for s in scenarios(12))
    again = run_synthesis(scenarios(12), agents_for(servers), Limits(3, 4), 4, progress=False)
    assert [t.id for t in again] == [s.id for s in scenarios(12)]  # kept: in scenario order


def test_a_round_leaves_no_prediction_alive_in_dspy(servers, tmp_path: Path):  # noqa: F811
    """DSPy appends every prediction with its inputs to a global trace (10,000 kept) unless told not
    to, and nothing reads it outside an optimizer. configure_cache tells it not to."""
    configure_cache(tmp_path)
    gc.collect()
    before = sum(isinstance(o, dspy.Prediction) for o in gc.get_objects())
    run_synthesis(scenarios(12), agents_for(servers), Limits(3, 4), 4, progress=False, keep=False)
    gc.collect()
    assert sum(isinstance(o, dspy.Prediction) for o in gc.get_objects()) == before
