"""BFCL evaluation of any `assistant` LM on BFCL's own data (the `bfcl-eval` package files).

Single-turn categories: each item's functions are offered as BFCL's generation offers them to a
function-calling model (its per-language rewriting; names with dots as underscores), the model
answers once, and BFCL's own `ast_checker` scores the calls as BFCL's eval runner does
(`eval/official.py`): `*irrelevance` passes when no call is made, `live_relevance` when one is.
`multi_turn_*`: the model works turn by turn against BFCL's own tool classes from the package
(its calls really execute and their results come back), then BFCL's own multi-turn checker
replays them and compares the classes' state with the ground truth after every turn. Per-item
results (the model's calls as it made them) go to a JSONL file, so any failure can be read and
every verdict recomputed from the file (`eval/rescore.py`). Beside irrelevance the tables show
must-call: the share of items that expect a call where the model made one, so a model that
never calls cannot pass for a careful one.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inftool.agents.signatures import AssistantTurn
from inftool.errors import UserError
from inftool.eval import official
from inftool.eval.runner import gather_bounded
from inftool.eval_data import bfcl_category, bfcl_tools
from inftool.lm import ChatRequest, LMCallError, RoleClient

NON_LIVE = ("simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
            "irrelevance")  # fmt: skip
LIVE = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple", "live_irrelevance",
        "live_relevance")  # fmt: skip
MULTI_TURN = ("multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context")
CATEGORIES = (*NON_LIVE, *LIVE, *MULTI_TURN)
SINGLE_TURN = (*NON_LIVE, *LIVE)
# A single-turn item's text answer is neither scored nor saved: the constrained decoder stops it at once
# (`{"answer": ""}`) instead of decoding up to ~100 tokens the verdict never reads.
TEXT_ANSWER_CHARS = 0
MUST_CALL = {"non_live": tuple(c for c in NON_LIVE if c != "irrelevance"),
             "live": tuple(c for c in LIVE if c != "live_irrelevance")}  # fmt: skip
# The policy's own system prompt (what its training rows show): a model trained on one prompt and examined under
# another is examined on the prompt change too. A run's (optimized) prompt is passed to `evaluate_bfcl`.
SYSTEM = AssistantTurn.instructions


@dataclass
class ItemResult:
    id: str
    category: str
    passed: bool
    reason: str
    calls: list[dict[str, Any]]


class Scores(dict[str, float]):
    """Accuracy per category (a plain dict, as JSON too), with the items each category ran (`sizes`)
    and, for single-turn categories, the share of them where the model made a call at all (`called`)."""

    def __init__(self, accuracy: dict[str, float], sizes: dict[str, int], called: dict[str, float]) -> None:
        super().__init__(accuracy)
        self.sizes, self.called = sizes, called


def scores(results: Sequence[ItemResult], categories: Sequence[str]) -> Scores:
    accuracy, sizes, called = {}, {}, {}
    for category in categories:
        mine = [r for r in results if r.category == category]
        accuracy[category] = sum(r.passed for r in mine) / len(mine) if mine else 0.0
        sizes[category] = len(mine)
        if category in SINGLE_TURN and mine:
            called[category] = sum(official.made_call(r.calls) for r in mine) / len(mine)
    return Scores(accuracy, sizes, called)


CALL_COUNTS = ("none", "under", "over", "wrong call", "right")


def call_counts(results: Sequence[ItemResult]) -> dict[str, Counter[str]]:
    """Per single-turn category with an expected answer: how many items the model answered with no call,
    fewer calls than BFCL's answer holds, more, as many with a call wrong (its function or a value), or
    right. Says what a mean hides: a policy that calls again on one-call items and once on three-call ones."""
    expected: dict[str, int] = {}
    for category in {r.category for r in results if r.category in SINGLE_TURN}:
        expected |= {e["id"]: len(a["ground_truth"]) for e, a in bfcl_category(category) if a}
    out: dict[str, Counter[str]] = {}
    for r in results:
        if r.id not in expected:  # irrelevance, live_relevance and multi-turn items: no count to compare
            continue
        made, wanted = len(r.calls), expected[r.id]
        shape = ("right" if r.passed else "none" if not official.made_call(r.calls) else "under" if made < wanted else
                 "over" if made > wanted else "wrong call")  # fmt: skip
        out.setdefault(r.category, Counter())[shape] += 1
    return out


def write_results(results: Sequence[ItemResult], out_path: Path) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8") as out:
        for r in results:
            out.write(json.dumps(r.__dict__, ensure_ascii=False) + "\n")


def sample(category: str, limit: int | None, seed: int) -> list[tuple[dict, dict | None]]:
    items = bfcl_category(category)
    if limit is None or limit >= len(items):
        return items
    picked = sorted(random.Random(f"{seed}-{category}").sample(range(len(items)), limit))
    return [items[i] for i in picked]


async def evaluate_item(client: RoleClient, category: str, entry: dict, answer: dict | None,
                        max_steps: int = 4, system: str = SYSTEM) -> ItemResult:  # fmt: skip
    if category.startswith("multi_turn"):
        from inftool.eval.multi_turn import evaluate_multi_turn

        assert answer is not None
        passed, reason, calls = await evaluate_multi_turn(client, system, entry, answer["ground_truth"], max_steps)
        return ItemResult(entry["id"], category, passed, reason, calls)
    functions = official.offered_functions(entry["function"], category)
    tools = bfcl_tools(functions)
    schema = [t.model_copy(update={"name": official.fc_name(n)}).openai_tool() for n, t in tools.items()]
    messages = [{"role": "system", "content": system}, *entry["question"][0]]
    request = ChatRequest(messages=messages, tools=schema, temperature=0.0, answer_max_chars=TEXT_ANSWER_CHARS)
    try:
        result = await client.acomplete(request)
    except LMCallError as exc:
        return ItemResult(entry["id"], category, False, f"LM failure: {exc.reason}", [])
    # as saved (JSON), so a re-score of the file sees exactly what was scored
    calls = json.loads(json.dumps([{"name": c.name, "arguments": c.arguments} for c in result.tool_calls]))
    passed, reason = official.score(category, entry, answer, calls)
    return ItemResult(entry["id"], category, passed, reason, calls)


def evaluate_bfcl(client: RoleClient, categories: Sequence[str], out_path: Path, limit: int | None = None,
                  seed: int = 0, concurrency: int = 4, progress: bool = True, max_steps: int = 4,
                  system: str = SYSTEM) -> Scores:  # fmt: skip
    """Accuracy per category (with items and calls made); every item's result goes to `out_path` (JSONL).
    `system` is the system prompt every item starts with: the evaluated policy's own."""
    unknown = sorted(set(categories) - set(CATEGORIES))
    if unknown:
        raise UserError(f"eval.categories: unknown BFCL category {unknown} (allowed: {', '.join(CATEGORIES)})")
    work = [(c, entry, answer) for c in categories for entry, answer in sample(c, limit, seed)]

    async def run(item: tuple[str, dict, dict | None]) -> ItemResult:
        return await evaluate_item(client, *item, max_steps, system)

    results = asyncio.run(gather_bounded(work, run, concurrency, "BFCL", progress))
    write_results(results, out_path)
    return scores(results, categories)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _weighted(accuracy: dict[str, float], counts: dict[str, int], categories: Sequence[str]) -> float:
    total = sum(counts.get(c, 0) for c in categories)
    return sum(accuracy.get(c, 0.0) * counts.get(c, 0) for c in categories) / total if total else 0.0


def must_call(called: dict[str, float], items: dict[str, int]) -> dict[str, float | None]:
    """The share of call-expected single-turn items (every category but the irrelevance ones) where
    the model made a call, over the categories that ran: non-live, live and all; None where none ran."""
    groups = {**MUST_CALL, "all": (*MUST_CALL["non_live"], *MUST_CALL["live"])}
    out: dict[str, float | None] = {}
    for group, categories in groups.items():
        ran = [c for c in categories if c in called and items.get(c)]
        total = sum(items[c] for c in ran)
        out[group] = sum(called[c] * items[c] for c in ran) / total if total else None
    return out


def bfcl_summary(accuracy: dict[str, float], counts: dict[str, int] | None = None) -> dict[str, Any]:
    """BFCL's V3 and V4 overall formulas over whatever categories ran (a category that did not
    run counts as 0, as BFCL counts it; `covered` says which ran). Live groups are weighted by
    item count, as BFCL weights them; `counts` defaults to the full category sizes. For `Scores`,
    also the calls made per category and must-call (`must_call`)."""
    counts = counts or {c: len(bfcl_category(c)) for c in accuracy if c.startswith("live")}
    acc = lambda c: accuracy.get(c, 0.0)  # noqa: E731
    simple = _mean([acc("simple_python"), acc("simple_java"), acc("simple_javascript")])
    non_live_ast = [simple, acc("multiple"), acc("parallel"), acc("parallel_multiple")]
    live_ast = LIVE[:4]
    multi_turn = _mean([acc(c) for c in MULTI_TURN])
    v3_non_live = _mean([*non_live_ast, acc("irrelevance")])
    v3_live = _weighted(accuracy, counts, LIVE)
    v4_non_live, v4_live = _mean(non_live_ast), _weighted(accuracy, counts, live_ast)
    irrelevance = _mean([acc("irrelevance"), acc("live_irrelevance")])
    v4 = (10 * v4_non_live + 10 * v4_live + 10 * irrelevance + 30 * multi_turn + 40 * 0.0) / 100  # agentic: not run
    summary = {
        "v3": {"overall": _mean([v3_non_live, v3_live, multi_turn]), "non_live": v3_non_live, "live": v3_live,
               "multi_turn": multi_turn},
        "v4": {"overall": v4, "non_live": v4_non_live, "live": v4_live, "irrelevance": irrelevance,
               "multi_turn": multi_turn, "agentic": 0.0},
        "covered": sorted(accuracy),
    }  # fmt: skip
    if isinstance(accuracy, Scores):
        summary["called"] = dict(accuracy.called)
        summary["must_call"] = must_call(accuracy.called, accuracy.sizes)
    return summary


def bfcl_record(result: Scores) -> dict[str, Any]:
    """What `bfcl_accuracy.json` holds: accuracy, items and calls made per category, must-call, V3/V4."""
    return {"accuracy": dict(result), "items": dict(result.sizes), **bfcl_summary(result)}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def accuracy_table(accuracy: dict[str, float], counts: dict[str, int] | None = None) -> str:
    """Accuracy per category and, for `Scores`, the calls made; must-call beside each irrelevance row."""
    summary = bfcl_summary(accuracy, counts)
    called = summary.get("called", {})
    shares = summary.get("must_call", {})
    beside = {"irrelevance": "non_live", "live_irrelevance": "live"}
    lines = [f"{'BFCL category':<26}{'accuracy':>10}{'called':>9}"]
    for c, a in accuracy.items():
        line = f"{c:<26}{a:>10.1%}{_pct(called.get(c)):>9}"
        if c in beside and shares:
            group = beside[c].replace("_", "-")
            line += f"   must-call {_pct(shares.get(beside[c]))} ({group}: calls made where one is expected)"
        lines.append(line)
    lines.append(f"{'mean of these':<26}{_mean(list(accuracy.values())):>10.1%}")
    if shares:
        lines.append(f"{'must-call (all)':<26}{_pct(shares['all']):>10}  share of call-expected items with a call")
    lines.append(f"{'BFCL V3 overall':<26}{summary['v3']['overall']:>10.1%}")
    lines.append(f"{'BFCL V4 overall':<26}{summary['v4']['overall']:>10.1%}  (agentic not run: 0, as BFCL counts it)")
    if len(accuracy) < len(CATEGORIES):
        lines.append(f"  {len(CATEGORIES) - len(accuracy)} categories not run count as 0 in V3/V4")
    return "\n".join(lines)
