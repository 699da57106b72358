"""BFCL evaluation plumbing on BFCL's own data: an oracle that answers with the ground truth
scores 100 %, a model that never calls scores 100 % on irrelevance only; results are per item."""

from __future__ import annotations

import json
from pathlib import Path

from inftool.eval import NON_LIVE, accuracy_table, evaluate_bfcl
from inftool.eval.bfcl import sample
from inftool.lm import ChatRequest, ChatResult, RoleClient, ToolCall
from inftool.specs.normalize import function_name
from tests.test_matcher_bfcl import model_output, tools_of

LIMIT = 6


class Oracle:
    """A stand-in model that knows BFCL's answers (looked up by the question text)."""

    name = "oracle"

    def __init__(self) -> None:
        self.answers = {}
        for category in NON_LIVE:
            for entry, answer in sample(category, LIMIT, seed=0):
                calls = model_output(answer["ground_truth"], tools_of(entry)) if answer else []
                self.answers[entry["question"][0][-1]["content"]] = calls

    def where(self) -> str:
        return "oracle"

    def complete(self, request: ChatRequest) -> ChatResult:
        calls = self.answers[request.messages[-1]["content"]]
        tool_calls = [ToolCall(id=f"c{i}", name=function_name(n), arguments=a) for i, (n, a) in enumerate(calls)]
        return ChatResult(content=None if calls else "I cannot help with that.", tool_calls=tool_calls)


class Silent(Oracle):
    def complete(self, request: ChatRequest) -> ChatResult:
        return ChatResult(content="No.")


def test_oracle_scores_full_marks_and_results_are_per_item(tmp_path: Path):
    out = tmp_path / "bfcl.jsonl"
    accuracy = evaluate_bfcl(RoleClient("assistant", Oracle()), NON_LIVE, out, limit=LIMIT, progress=False)
    assert accuracy == dict.fromkeys(NON_LIVE, 1.0)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == LIMIT * len(NON_LIVE) and all(r["passed"] for r in rows)
    assert "mean" in accuracy_table(accuracy)


def test_a_model_that_never_calls_only_passes_irrelevance(tmp_path: Path):
    accuracy = evaluate_bfcl(RoleClient("assistant", Silent()), NON_LIVE, tmp_path / "b.jsonl", limit=LIMIT,
                             progress=False)  # fmt: skip
    assert accuracy["irrelevance"] == 1.0 and all(accuracy[c] == 0.0 for c in NON_LIVE if c != "irrelevance")
    rows = [json.loads(line) for line in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert any(r["reason"].startswith("wrong number of calls") for r in rows)


def test_stratified_limit_is_seeded():
    a = [e["id"] for e, _ in sample("parallel", 5, seed=1)]
    assert a == [e["id"] for e, _ in sample("parallel", 5, seed=1)] and a != [
        e["id"] for e, _ in sample("parallel", 5, 2)
    ]
