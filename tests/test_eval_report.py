"""Must-call beside irrelevance in the quickstart's tables: the evaluation's terminal table, the
loop's summary table and report.html, from the loop's own evaluation step on the quickstart
recipe (a scripted model stands in for the embedded one); and `mode=eval eval.rescore=PATH`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inftool.config import validate
from inftool.eval import official
from inftool.eval.bfcl import MUST_CALL
from inftool.lm import RoleClient, RoleLM
from inftool.loop import Evaluator
from inftool.recipes import compose_config
from inftool.report import loop_table, write_report
from tests.test_eval_bfcl import Scripted, oracle_calls, questions

ROLES = ("user", "assistant", "tools")


def half_calling(categories: list[str], limit: int) -> Scripted:
    """Answers every other question with its ground truth, the rest with text."""
    answers = {}
    for i, (category, entry, answer) in enumerate(questions(categories, limit)):
        answers[entry["question"][0][-1]["content"]] = oracle_calls(category, entry, answer) if i % 2 else []
    return Scripted(answers)


def test_must_call_shows_in_the_quickstart_tables_and_report(tmp_path: Path, capsys: pytest.CaptureFixture):
    config = validate(compose_config(["recipe=quickstart", "loop.heldout.items=0"]))
    categories, limit = config.eval.categories, config.eval.limit
    model = half_calling(categories, limit)
    lms = {role: RoleLM(RoleClient(role, model), temperature=0.0, max_tokens=64) for role in ROLES}
    record = Evaluator(config, [], tmp_path)(config, lms, tmp_path / "baseline")
    printed = capsys.readouterr().out
    rows = [json.loads(line) for line in (tmp_path / "baseline" / "bfcl.jsonl").read_text().splitlines()]
    expected = [r for r in rows if r["category"] in MUST_CALL["non_live"]]
    share = sum(official.made_call(r["calls"]) for r in expected) / len(expected)
    assert 0 < share < 1 and record["bfcl_summary"]["must_call"]["non_live"] == share
    irrelevance = next(line for line in printed.splitlines() if line.startswith("irrelevance"))
    assert f"must-call {share:.1%}" in irrelevance  # the evaluation's terminal table, beside irrelevance
    history = [{"round": 0, "baseline": json.loads(json.dumps(record))}]  # as the step marker stores it
    table = loop_table(history)
    header, base = table.splitlines()[:2]
    assert "must-call" in header and "irrel." in header
    column = header.index("must-call") + len("must-call")
    assert base[:column].endswith(f"{share:.1%}")  # under its header
    page = write_report(history, tmp_path).read_text()
    assert "must-call" in page and f"{share:.1%}" in page


def test_mode_eval_rescores_a_saved_file_and_refuses_other_files(tmp_path: Path):
    saved = Path(__file__).parent / "data" / "bfcl_embedded_sample.jsonl"
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "inftool", "mode=eval", f"eval.rescore={saved}", f"hydra.run.dir={run_dir}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "must-call" in done.stdout and "0 verdicts changed" in done.stdout
    record = json.loads((run_dir / "eval" / "bfcl_accuracy.json").read_text())
    mine = [json.loads(line) for line in (run_dir / "eval" / "bfcl.jsonl").read_text().splitlines()]
    theirs = [json.loads(line) for line in saved.read_text().splitlines()]
    assert [r["passed"] for r in mine] == [r["passed"] for r in theirs]
    assert record["must_call"]["all"] is not None and record["accuracy"]["irrelevance"] >= 0
    secret = tmp_path / "notes.jsonl"
    secret.write_text("token=hunter2-do-not-print\n")
    refused = subprocess.run([sys.executable, "-m", "inftool", "mode=eval", f"eval.rescore={secret}",
                              f"hydra.run.dir={tmp_path / 'run2'}"], capture_output=True, text=True, timeout=300,
                             cwd=tmp_path)  # fmt: skip
    assert refused.returncode != 0
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"{secret}:1:" in lines[0] and "hunter2" not in refused.stderr + refused.stdout
