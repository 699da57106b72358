"""BFCL evaluation on BFCL's own data, scored by BFCL's own checkers: an oracle that answers with
the ground truth scores 100 % (Java/JavaScript answers written as source strings, as BFCL wants
them), a model that never calls scores 100 % on irrelevance only and 0 % must-call; every
verdict equals the one BFCL's eval runner gives on the same saved outputs; results are per item."""

from __future__ import annotations

import ast
import json
import random
from pathlib import Path
from typing import Any

from inftool.agents.assistant import Assistant
from inftool.eval import CATEGORIES, MULTI_TURN, NON_LIVE, accuracy_table, bfcl_summary, evaluate_bfcl, official
from inftool.eval.bfcl import ItemResult, call_counts, sample
from inftool.eval.multi_turn import class_docs
from inftool.eval_data import bfcl_category
from inftool.lm import ChatRequest, ChatResult, RoleClient, ToolCall
from tests.test_matcher_bfcl import PERTURBATIONS, model_output, tools_of

LIMIT = 6
JAVA_JS = ("simple_java", "simple_javascript")


def converted(source: str, kind: str, nested: str | None, category: str) -> Any:
    from bfcl_eval.eval_checker.ast_eval.type_convertor.java_type_converter import java_type_converter
    from bfcl_eval.eval_checker.ast_eval.type_convertor.js_type_converter import js_type_converter

    convert = js_type_converter if category == "simple_javascript" else java_type_converter
    return convert(source, kind, nested) if nested else convert(source, kind)


def _literals(value: Any) -> list[str]:
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, int):
        return [str(value), f"{value}L", f"{value}n"]
    if isinstance(value, float):
        return [repr(value), f"{value}f", *([str(int(value))] if value.is_integer() else [])]
    if isinstance(value, str):
        return [f'"{value}"', value]
    return [json.dumps(value)]


def source(value: Any, schema: dict, category: str) -> str:
    """A Java/JavaScript source string that BFCL's converter reads back as `value` (the first of a
    few renderings that does), as a model offered BFCL's string-typed parameters writes it."""
    kind = schema.get("type", "any")
    nested = schema.get("items", {}).get("type") if kind in ("Array", "ArrayList", "array") else None
    candidates = [*_literals(value)]
    if isinstance(value, list):
        for form in (0, 1):
            items = ", ".join(_literals(v)[form] if len(_literals(v)) > form else _literals(v)[0] for v in value)
            candidates += [f"new ArrayList<>(Arrays.asList({items}))", f"new {nested or 'Object'}[]{{{items}}}",
                           f"[{items}]", f"new Array({items})"]  # fmt: skip
    if isinstance(value, dict):
        puts = " ".join(f'put("{k}", {_literals(v)[0]});' for k, v in value.items())
        pairs = ", ".join(f"{k}: {_literals(v)[0]}" for k, v in value.items())
        candidates += [f"new HashMap<String, Object>() {{{{ {puts} }}}}", f"{{{pairs}}}"]
    for candidate in candidates:
        try:
            if converted(candidate, kind, nested, category) == value:
                return candidate
        except (ValueError, NotImplementedError, IndexError):
            continue
    return str(value)


def oracle_calls(category: str, entry: dict, answer: dict | None) -> list[tuple[str, Any]]:
    """The ground truth as the model writes it: offered (FC) names; Java/JavaScript values as source."""
    if answer is None:
        return []
    calls = model_output(answer["ground_truth"], tools_of(entry))
    if category in JAVA_JS:
        docs = {f["name"]: f["parameters"]["properties"] for f in entry["function"]}
        calls = [(n, {k: source(v, docs[n][k], category) for k, v in a.items()}) for n, a in calls]
    return [(official.fc_name(n), a) for n, a in calls]


class Scripted:
    """A stand-in model answering each BFCL question with prepared calls (looked up by its text)."""

    name = "scripted"

    def __init__(self, answers: dict[str, list[tuple[str, Any]]]) -> None:
        self.answers = answers

    def where(self) -> str:
        return "test"

    def complete(self, request: ChatRequest) -> ChatResult:
        calls = self.answers[request.messages[-1]["content"]]
        tool_calls = [ToolCall(id=f"c{i}", name=n, arguments=a) for i, (n, a) in enumerate(calls)]
        return ChatResult(content=None if calls else "I cannot help with that.", tool_calls=tool_calls)


def questions(categories: tuple[str, ...] | list[str], limit: int) -> list[tuple[str, dict, dict | None]]:
    return [(c, e, a) for c in categories for e, a in sample(c, limit, seed=0)]


def oracle(categories: tuple[str, ...] | list[str] = NON_LIVE, limit: int = LIMIT) -> Scripted:
    answers = {e["question"][0][-1]["content"]: oracle_calls(c, e, a) for c, e, a in questions(categories, limit)}
    return Scripted(answers)


class Silent(Scripted):
    def complete(self, request: ChatRequest) -> ChatResult:
        return ChatResult(content="No.")


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_oracle_scores_full_marks_by_bfcls_checker_and_results_are_per_item(tmp_path: Path):
    out = tmp_path / "bfcl.jsonl"
    accuracy = evaluate_bfcl(RoleClient("assistant", oracle()), NON_LIVE, out, limit=LIMIT, progress=False)
    saved = rows(out)
    assert accuracy == dict.fromkeys(NON_LIVE, 1.0), [r for r in saved if not r["passed"]]
    assert len(saved) == LIMIT * len(NON_LIVE) and all(r["passed"] for r in saved)
    java = [r for r in saved if r["category"] in JAVA_JS]
    assert java and all(isinstance(v, str) for r in java for c in r["calls"] for v in c["arguments"].values())
    summary = bfcl_summary(accuracy)
    assert summary["must_call"]["non_live"] == 1.0 and accuracy.called["irrelevance"] == 0.0
    assert "mean" in accuracy_table(accuracy) and "must-call 100.0%" in accuracy_table(accuracy)


class Recording(Silent):
    def __init__(self) -> None:
        super().__init__({})
        self.requests: list[ChatRequest] = []

    def complete(self, request: ChatRequest) -> ChatResult:
        self.requests.append(request)
        return super().complete(request)


def test_items_start_with_the_policys_own_system_prompt_and_text_answers_are_not_decoded(tmp_path: Path):
    default, optimized = Recording(), Recording()
    evaluate_bfcl(RoleClient("assistant", default), ["simple_python"], tmp_path / "a.jsonl", limit=2, progress=False)
    evaluate_bfcl(RoleClient("assistant", optimized), ["simple_python"], tmp_path / "b.jsonl", limit=2,
                  progress=False, system="Call functions. Be brief.")  # fmt: skip
    # the default is the Assistant's prompt, the one its SFT rows show (train.data keeps the episode's system turn)
    assert {r.messages[0]["content"] for r in default.requests} == {Assistant().system_prompt}
    assert {r.messages[0]["content"] for r in optimized.requests} == {"Call functions. Be brief."}
    assert {r.answer_max_chars for r in default.requests} == {0}


def test_a_model_that_never_calls_passes_irrelevance_only_and_must_call_shows_it(tmp_path: Path):
    accuracy = evaluate_bfcl(RoleClient("assistant", Silent({})), NON_LIVE, tmp_path / "b.jsonl", limit=LIMIT,
                             progress=False)  # fmt: skip
    assert accuracy["irrelevance"] == 1.0 and all(accuracy[c] == 0.0 for c in NON_LIVE if c != "irrelevance")
    assert bfcl_summary(accuracy)["must_call"] == {"non_live": 0.0, "live": None, "all": 0.0}
    table = accuracy_table(accuracy)
    irrelevance_row = next(line for line in table.splitlines() if line.startswith("irrelevance"))
    assert "100.0%" in irrelevance_row and "must-call 0.0%" in irrelevance_row
    assert any(r["reason"].startswith("simple_function_checker:wrong_count") for r in rows(tmp_path / "b.jsonl"))


def noisy_answers(categories: list[str], limit: int, seed: int) -> Scripted:
    """Ground truths perturbed at random (the matcher suite's perturbations), on the FC names."""
    rng = random.Random(seed)
    answers = {}
    for category, entry, answer in questions(categories, limit):
        calls = oracle_calls(category, entry, answer)
        if answer is None:  # irrelevance: sometimes a call anyway
            tool = official.fc_name(entry["function"][0]["name"]) if entry["function"] else "any_tool"
            calls = [(tool, rng.choice([{}, {"x": 1}, "not json"]))] if rng.random() < 0.5 else []
        elif rng.random() < 0.7:
            name = rng.choice(sorted(PERTURBATIONS))
            expected = [{official.fc_name(n): a for n, a in c.items()} for c in answer["ground_truth"]]
            item = {"tools": {official.fc_name(n): t for n, t in tools_of(entry).items()}, "ground_truth": expected}
            calls = PERTURBATIONS[name](calls, item, rng) or calls
            calls = [(n.removeprefix("DOTTED:"), a) for n, a in calls]
        answers[entry["question"][0][-1]["content"]] = calls
    return Scripted(answers)


def test_every_verdict_equals_bfcls_eval_runner_on_the_saved_outputs(tmp_path: Path):
    from inftool.eval import rescore_bfcl

    categories = [*NON_LIVE, "live_simple", "live_multiple", "live_parallel", "live_irrelevance", "live_relevance"]
    out = tmp_path / "bfcl.jsonl"
    evaluate_bfcl(RoleClient("assistant", noisy_answers(categories, 8, seed=3)), categories, out, limit=8,
                  progress=False)  # fmt: skip
    items = {e["id"]: (c, e, a) for c, e, a in questions(categories, 8)}
    saved = rows(out)
    theirs = [official.runner_verdict(*items[r["id"]], r["calls"]) for r in saved]
    assert [r["passed"] for r in saved] == theirs
    assert 0.2 < sum(theirs) / len(theirs) < 0.9  # both verdicts occur, in every kind of category
    rescored, changed = rescore_bfcl(out, tmp_path / "again.jsonl")
    assert changed == 0 and [r["passed"] for r in rows(tmp_path / "again.jsonl")] == theirs
    assert dict(rescored) == {c: sum(t for r, t in zip(saved, theirs, strict=True) if r["category"] == c) / 8
                              for c in categories}  # fmt: skip


SAMPLE = Path(__file__).parent / "data" / "bfcl_embedded_sample.jsonl"


def test_the_embedded_models_saved_sample_scores_as_bfcl_scores_it(tmp_path: Path):
    """Outputs the embedded default model (SmolLM2-135M) gave on a non-live and live sample,
    saved with this project's verdicts: BFCL's eval runner gives the same verdict on every item."""
    from inftool.eval import rescore_bfcl
    from inftool.eval_data import bfcl_category

    saved = rows(SAMPLE)
    assert {r["category"] for r in saved} >= set(NON_LIVE) and any(not r["passed"] for r in saved)
    items = {e["id"]: (r["category"], e, a) for r in saved for e, a in bfcl_category(r["category"])
             if e["id"] == r["id"]}  # fmt: skip
    theirs = [official.runner_verdict(*items[r["id"]], r["calls"]) for r in saved]
    assert [r["passed"] for r in saved] == theirs
    _, changed = rescore_bfcl(SAMPLE, tmp_path / "bfcl.jsonl")
    assert changed == 0


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
        tool_calls = [ToolCall(id=f"c{i}", name=official.fc_name(n), arguments=a) for i, (n, a) in enumerate(calls)]
        return ChatResult(content=None if calls else "I cannot do that.", tool_calls=tool_calls)


def test_multi_turn_runs_against_bfcl_classes_and_its_checker_and_rescores(tmp_path: Path):
    from inftool.eval import rescore_bfcl

    out = tmp_path / "mt.jsonl"
    accuracy = evaluate_bfcl(RoleClient("assistant", MultiTurnOracle(3)), MULTI_TURN, out, limit=3, progress=False)
    assert accuracy == dict.fromkeys(MULTI_TURN, 1.0)
    assert all(row["calls"] for row in rows(out))  # the calls really ran, turn by turn
    wrong = tmp_path / "w.jsonl"
    scores = evaluate_bfcl(RoleClient("assistant", MultiTurnOracle(3, corrupt=True)), ["multi_turn_base"], wrong,
                           limit=3, progress=False)  # fmt: skip
    assert scores["multi_turn_base"] < 1.0
    assert any(r["reason"].startswith("multi_turn:") for r in rows(wrong))
    for path in (out, wrong):  # replayed from the file alone: the same verdicts
        _, changed = rescore_bfcl(path, tmp_path / "again.jsonl")
        again = rows(tmp_path / "again.jsonl")
        assert changed == 0 and [r["passed"] for r in again] == [r["passed"] for r in rows(path)]


def test_live_relevance_needs_a_call_and_summaries_follow_bfcl_formulas(tmp_path: Path):
    silent = evaluate_bfcl(RoleClient("assistant", Silent({})), ["live_relevance", "live_irrelevance"],
                           tmp_path / "r.jsonl", limit=4, progress=False)  # fmt: skip
    assert silent == {"live_relevance": 0.0, "live_irrelevance": 1.0}
    assert bfcl_summary(silent)["must_call"]["live"] == 0.0
    perfect = bfcl_summary(dict.fromkeys(CATEGORIES, 1.0))
    assert perfect["v3"]["overall"] == 1.0 and perfect["v4"]["overall"] == 0.6  # agentic (40 %) is not run
    only_simple = bfcl_summary({"simple_python": 1.0})
    assert only_simple["v4"]["non_live"] == 1 / 12  # simple = mean(python, java, js), then mean of 4 groups
    assert "V4 overall" in accuracy_table({"simple_python": 1.0})


def test_stratified_limit_is_seeded():
    a = [e["id"] for e, _ in sample("parallel", 5, seed=1)]
    assert a == [e["id"] for e, _ in sample("parallel", 5, seed=1)] and a != [
        e["id"] for e, _ in sample("parallel", 5, 2)
    ]


def test_offered_tools_follow_bfcls_fc_handlers():
    entry, _ = sample("simple_java", 1, seed=0)[0]
    functions = official.offered_functions(entry["function"], "simple_java")
    assert all(p["type"] == "string" for f in functions for p in f["parameters"]["properties"].values())
    assert "Java 8 SDK syntax" in functions[0]["description"] and "Java" not in entry["function"][0]["description"]
    assert official.fc_name("math.factorial") == "math_factorial" and official.fc_name("__x") == "__x"


def test_call_counts_compare_the_calls_made_with_bfcls_answer():
    entry, answer = next((e, a) for e, a in bfcl_category("parallel") if len(a["ground_truth"]) == 2)
    right = [{"name": n, "arguments": {k: v[0] for k, v in args.items()}}
             for call in answer["ground_truth"] for n, args in call.items()]  # fmt: skip
    single, single_answer = bfcl_category("simple_python")[0]
    one = [
        {"name": n, "arguments": {k: v[0] for k, v in a.items()}} for n, a in single_answer["ground_truth"][0].items()
    ]
    results = [
        ItemResult(entry["id"], "parallel", True, "", right),
        ItemResult(entry["id"], "parallel", False, "wrong count", right[:1]),
        ItemResult(entry["id"], "parallel", False, "wrong count", [*right, right[0]]),
        ItemResult(entry["id"], "parallel", False, "wrong value", right),
        ItemResult(single["id"], "simple_python", False, "no call", []),
        ItemResult(single["id"], "simple_python", False, "wrong count", one * 2),
        ItemResult("irrelevance_0", "irrelevance", True, "", []),  # no count to compare: left out
    ]
    counts = call_counts(results)
    assert set(counts) == {"parallel", "simple_python"}
    assert dict(counts["parallel"]) == {"right": 1, "under": 1, "over": 1, "wrong call": 1}
    assert dict(counts["simple_python"]) == {"none": 1, "over": 1}
