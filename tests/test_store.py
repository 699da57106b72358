"""The store survives SIGKILL: rerunning the same run dir resumes, no episode twice, none lost;
a bad line is quarantined, never the lines after it; and the exports read back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from inftool.data import TrajectoryStore
from inftool.gates.records import GatedTrajectory
from inftool.lm.loopback import LoopbackServer
from inftool.rollout import Trajectory
from inftool.scenarios.records import Scenario

EPISODES = 120


def command(run_dir: Path, url: str, *extra: str) -> list[str]:
    roles = [
        f"{o}"
        for r in ("user", "assistant", "tools", "judge")
        for o in (f"lm@lm.{r}=openai", f"lm.{r}.model=loop", f"lm.{r}.base_url={url}")
    ]
    return [
        sys.executable,
        "-m",
        "inftool",
        f"hydra.run.dir={run_dir}",
        f"synthesis.episodes={EPISODES}",
        "synthesis.concurrency=2",
        "loop.stages=[synthesize]",
        *roles,
        *extra,
    ]


def stored_ids(run_dir: Path) -> list[str]:
    ids = []
    for shard in sorted((run_dir / "round_0" / "data").glob("*ed-*.jsonl")):
        ids += [json.loads(line)["trajectory"]["id"] for line in shard.read_text().splitlines() if line.strip()]
    return ids


@pytest.fixture
def slow_server():
    server = LoopbackServer(schema_replies=True, record=False, delay=0.02).start()
    yield server
    server.stop()


def test_sigkill_mid_run_then_resume(tmp_path: Path, slow_server: LoopbackServer):
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        command(run_dir, slow_server.url), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(stored_ids(run_dir) if (run_dir / "round_0" / "data").exists() else []) < 20:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = stored_ids(run_dir)
    assert 20 <= len(before) < EPISODES, "the kill must land mid-run"

    rerun = subprocess.run(command(run_dir, slow_server.url), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"already in {run_dir / 'round_0' / 'data'}" in rerun.stdout
    after = stored_ids(run_dir)
    assert len(after) == len(set(after)) == EPISODES  # none twice, none lost
    assert set(before) <= set(after)
    manifest_lines = (run_dir / "round_0" / "data" / "manifest.jsonl").read_text().splitlines()
    manifest = [json.loads(line)["id"] for line in manifest_lines]
    assert sorted(manifest) == sorted(after)


def test_exports_read_back(tmp_path: Path, slow_server: LoopbackServer):
    slow_server.delay = 0.0
    run_dir = tmp_path / "run"
    exports = "data.exports=[openai,sharegpt,parquet,openrlhf,bfcl]"
    # The loopback policy's calls are schema-valid but never the (generated) plan's values: with the
    # consistency gate off, episodes whose plan verified and whose calls run are accepted and exported.
    lenient = "gates.chain.4.enabled=false"
    result = subprocess.run(
        command(run_dir, slow_server.url, exports, lenient), cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    accepted = list(TrajectoryStore(run_dir / "round_0" / "data").read("accepted"))
    assert accepted, "verified plans whose schema-valid calls ran are accepted"
    out = run_dir / "round_0" / "exports"
    chat = [json.loads(line) for line in (out / "openai_chat.jsonl").read_text().splitlines()]
    assert len(chat) == len(accepted) and chat[0]["tools"][0]["type"] == "function"
    assert {m["role"] for m in chat[0]["messages"]} >= {"system", "user", "assistant"}
    share = [json.loads(line) for line in (out / "sharegpt.jsonl").read_text().splitlines()]
    assert share[0]["conversations"][1]["from"] == "human"
    assert {"function_call", "observation"} & {c["from"] for row in share for c in row["conversations"]}
    prompts = [json.loads(line) for line in (out / "openrlhf_prompts.jsonl").read_text().splitlines()]
    assert prompts and all(
        p["prompt"][0]["role"] == "system" and "You can call these functions" in p["prompt"][0]["content"]
        for p in prompts
    )
    assert any(json.loads(p["label"])["calls"] for p in prompts)
    questions = [json.loads(line) for line in (out / "BFCL_synthetic.json").read_text().splitlines()]
    answers = [json.loads(line) for line in (out / "BFCL_synthetic_possible_answer.json").read_text().splitlines()]
    assert [q["id"] for q in questions] == [a["id"] for a in answers]
    assert all(q["function"][0]["parameters"]["type"] == "dict" for q in questions)
    table = pq.read_table(out / "trajectories.parquet")
    assert table.num_rows == len(accepted) and set(table.column_names) >= {"id", "kind", "messages", "tools"}
    summary = json.loads((run_dir / "round_0" / "run_summary.json").read_text())
    assert summary["episodes"] == EPISODES and set(summary["gate_pass_rate"]) >= {"format", "schema"}


def gated(episode: str, accepted: bool = True) -> GatedTrajectory:
    scenario = Scenario(id=episode, kind="single", toolset="t", domain="d", offered=[], targets=[])
    return GatedTrajectory(trajectory=Trajectory(id=episode, scenario=scenario), accepted=accepted)


def test_repair_quarantines_each_bad_line_and_keeps_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    shard = tmp_path / "accepted-00000.jsonl"
    lines = [gated(f"e{i}").model_dump_json().encode() for i in range(6)]
    lines[2] = b'{"trajectory": garbled'  # a bad line mid-shard
    lines[3] = b"\xff\xfe not utf-8"
    shard.write_bytes(b"\n".join(lines[:5]) + b"\n" + lines[5][:40])  # the last line cut off by a kill

    with TrajectoryStore(tmp_path) as store:
        assert set(store.done) == {"e0", "e1", "e4"}  # the lines after the bad ones survive
        assert [item.id for item in store.read()] == ["e0", "e1", "e4"]
        store.add(gated("e5"))  # the cut-off episode is redone, not skipped
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(shard) in err[0] and "3 unreadable" in err[0] and "line 3, 4, 6" in err[0]
    quarantined = [json.loads(line) for line in (tmp_path / "quarantine" / shard.name).read_text().splitlines()]
    assert [(q["shard"], q["line"]) for q in quarantined] == [(shard.name, 3), (shard.name, 4), (shard.name, 6)]
    assert [q["text"].encode("utf-8", "surrogateescape") for q in quarantined] == [lines[2], lines[3], lines[5][:40]]

    with TrajectoryStore(tmp_path) as store:  # the repaired shard reads clean: nothing more quarantined
        assert set(store.done) == {"e0", "e1", "e4", "e5"}
    assert capsys.readouterr().err == ""
    manifest = [json.loads(line)["id"] for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    assert sorted(manifest) == ["e0", "e1", "e4", "e5"]
    assert len((tmp_path / "quarantine" / shard.name).read_text().splitlines()) == 3


def test_complete_last_line_without_newline_is_kept(tmp_path: Path):
    shard = tmp_path / "rejected-00000.jsonl"
    shard.write_text(gated("a", False).model_dump_json() + "\n" + gated("b", False).model_dump_json())
    with TrajectoryStore(tmp_path) as store:
        assert store.done == {"a": False, "b": False}
        store.add(gated("c", False))
    assert [item.id for item in TrajectoryStore(tmp_path).read("rejected")] == ["a", "b", "c"]
    assert not (tmp_path / "quarantine").exists()
