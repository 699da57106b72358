"""BFCL evaluation plumbing on BFCL's own data: an oracle that answers with the ground truth
scores 100 %, a model that never calls scores 100 % on irrelevance only; results are per item."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from inftool.eval import CATEGORIES, MULTI_TURN, NON_LIVE, accuracy_table, bfcl_summary, evaluate_bfcl
from inftool.eval.bfcl import sample
from inftool.eval.multi_turn import class_docs
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


def parse_call(call: str, docs: dict[str, dict]) -> tuple[str, dict]:
    """A BFCL ground-truth call string (`name(a, b=1)`) → name and keyword arguments."""
    node = ast.parse(call, mode="eval").body
    name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
    order = list(docs[name]["parameters"]["properties"])
    args = {order[i]: ast.literal_eval(a) for i, a in enumerate(node.args)}
    args.update({k.arg: ast.literal_eval(k.value) for k in node.keywords})
    return name, args


class MultiTurnOracle:
    """Answers each user turn with that turn's ground-truth calls, then with text."""

    name = "multi-turn-oracle"

    def __init__(self, limit: int, corrupt: bool = False) -> None:
        self.plans, self.corrupt = {}, corrupt
        for category in MULTI_TURN:
            for entry, answer in sample(category, limit, seed=0):
                docs = {d["name"]: d for d in class_docs(entry["involved_classes"])}
                turns = [[parse_call(c, docs) for c in turn] for turn in answer["ground_truth"]]
                self.plans[entry["question"][0][0]["content"]] = turns

    def where(self) -> str:
        return "oracle"

    def complete(self, request: ChatRequest) -> ChatResult:
        if request.messages[-1]["role"] == "tool":
            return ChatResult(content="Done.")
        first = next(m["content"] for m in request.messages if m["role"] == "user")
        calls = self.plans[first][sum(m["role"] == "user" for m in request.messages) - 1]
        if self.corrupt:  # one wrong value: the state (or the results) must then differ from BFCL's
            calls = [(n, {k: (v + "_x" if isinstance(v, str) else v) for k, v in a.items()}) for n, a in calls]
        tool_calls = [ToolCall(id=f"c{i}", name=function_name(n), arguments=a) for i, (n, a) in enumerate(calls)]
        return ChatResult(content=None if calls else "I cannot do that.", tool_calls=tool_calls)


def test_multi_turn_runs_against_bfcl_classes_and_its_checker(tmp_path: Path):
    out = tmp_path / "mt.jsonl"
    accuracy = evaluate_bfcl(RoleClient("assistant", MultiTurnOracle(3)), MULTI_TURN, out, limit=3, progress=False)
    assert accuracy == dict.fromkeys(MULTI_TURN, 1.0)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(row["calls"] for row in rows)  # the calls really ran, turn by turn
    wrong = evaluate_bfcl(RoleClient("assistant", MultiTurnOracle(3, corrupt=True)), ["multi_turn_base"],
                          tmp_path / "w.jsonl", limit=3, progress=False)  # fmt: skip
    assert wrong["multi_turn_base"] < 1.0
    reasons = [json.loads(line)["reason"] for line in (tmp_path / "w.jsonl").read_text().splitlines()]
    assert any(r.startswith("multi_turn:") for r in reasons)


def test_live_relevance_needs_a_call_and_summaries_follow_bfcl_formulas(tmp_path: Path):
    silent = evaluate_bfcl(RoleClient("assistant", Silent()), ["live_relevance", "live_irrelevance"],
                           tmp_path / "r.jsonl", limit=4, progress=False)  # fmt: skip
    assert silent == {"live_relevance": 0.0, "live_irrelevance": 1.0}
    perfect = bfcl_summary(dict.fromkeys(CATEGORIES, 1.0))
    assert perfect["v3"]["overall"] == 1.0 and perfect["v4"]["overall"] == 0.6  # agentic (40 %) is not run
    only_simple = bfcl_summary({"simple_python": 1.0})
    assert only_simple["v4"]["non_live"] == 1 / 12  # simple = mean(python, java, js), then mean of 4 groups
    assert "V4 overall" in accuracy_table({"simple_python": 1.0})
