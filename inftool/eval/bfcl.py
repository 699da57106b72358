"""BFCL evaluation of any `assistant` LM on BFCL's own data (the `bfcl-eval` package files).

Single-turn categories: each item's functions are offered as tools (names made valid, then
mapped back), the model answers once, and the gates' matcher scores the calls against BFCL's
possible answers with BFCL's AST semantics (`*irrelevance` passes when no call is made,
`live_relevance` when one is). Java/JavaScript items are offered with their types mapped to
JSON Schema and matched like Python ones (BFCL itself passes them as strings and parses them
back). `multi_turn_*`: the model works turn by turn against BFCL's own tool classes from the
package (its calls really execute and their results come back), then BFCL's own multi-turn
checker replays them and compares the classes' state with the ground truth after every turn.
Per-item results go to a JSONL file so any failure can be read.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inftool.errors import UserError
from inftool.eval.runner import gather_bounded
from inftool.eval_data import bfcl_category, bfcl_tools
from inftool.gates.matcher import match_calls
from inftool.lm import ChatRequest, LMCallError, RoleClient
from inftool.specs.normalize import function_name

NON_LIVE = ("simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
            "irrelevance")  # fmt: skip
LIVE = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple", "live_irrelevance",
        "live_relevance")  # fmt: skip
MULTI_TURN = ("multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context")
CATEGORIES = (*NON_LIVE, *LIVE, *MULTI_TURN)
SYSTEM = "You are a helpful assistant that can call functions. Call the functions the request needs, or answer in text."


@dataclass
class ItemResult:
    id: str
    category: str
    passed: bool
    reason: str
    calls: list[dict[str, Any]]


def sample(category: str, limit: int | None, seed: int) -> list[tuple[dict, dict | None]]:
    items = bfcl_category(category)
    if limit is None or limit >= len(items):
        return items
    picked = sorted(random.Random(f"{seed}-{category}").sample(range(len(items)), limit))
    return [items[i] for i in picked]


async def evaluate_item(client: RoleClient, category: str, entry: dict, answer: dict | None,
                        max_steps: int = 4) -> ItemResult:  # fmt: skip
    if category.startswith("multi_turn"):
        from inftool.eval.multi_turn import evaluate_multi_turn

        assert answer is not None
        passed, reason, calls = await evaluate_multi_turn(client, SYSTEM, entry, answer["ground_truth"], max_steps)
        return ItemResult(entry["id"], category, passed, reason, calls)
    tools = bfcl_tools(entry["function"])
    offered = {function_name(name): name for name in tools}  # valid names for the model -> BFCL's names
    messages = [{"role": "system", "content": SYSTEM}, *entry["question"][0]]
    schema = [t.model_copy(update={"name": n}).openai_tool() for n, t in ((k, tools[v]) for k, v in offered.items())]
    try:
        result = await client.acomplete(ChatRequest(messages=messages, tools=schema, temperature=0.0))
    except LMCallError as exc:
        return ItemResult(entry["id"], category, False, f"LM failure: {exc.reason}", [])
    calls = [(offered.get(c.name, c.name), c.arguments) for c in result.tool_calls]
    shown = [{"name": n, "arguments": a} for n, a in calls]
    if category.endswith("irrelevance"):
        passed = not calls
        return ItemResult(entry["id"], category, passed, "" if passed else "called a function", shown)
    if category == "live_relevance":
        return ItemResult(entry["id"], category, bool(calls), "" if calls else "made no call", shown)
    assert answer is not None
    reason = match_calls(calls, answer["ground_truth"], tools)
    return ItemResult(entry["id"], category, reason is None, reason or "", shown)


def evaluate_bfcl(client: RoleClient, categories: Sequence[str], out_path: Path, limit: int | None = None,
                  seed: int = 0, concurrency: int = 4, progress: bool = True,
                  max_steps: int = 4) -> dict[str, float]:  # fmt: skip
    """Accuracy per category; every item's result is written to `out_path` (JSONL)."""
    unknown = sorted(set(categories) - set(CATEGORIES))
    if unknown:
        raise UserError(f"eval.categories: unknown BFCL category {unknown} (allowed: {', '.join(CATEGORIES)})")
    work = [(c, entry, answer) for c in categories for entry, answer in sample(c, limit, seed)]

    async def run(item: tuple[str, dict, dict | None]) -> ItemResult:
        return await evaluate_item(client, *item, max_steps)

    results = asyncio.run(gather_bounded(work, run, concurrency, "BFCL", progress))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8") as out:
        for r in results:
            out.write(json.dumps(r.__dict__, ensure_ascii=False) + "\n")
    accuracy = {}
    for category in categories:
        mine = [r for r in results if r.category == category]
        accuracy[category] = sum(r.passed for r in mine) / len(mine) if mine else 0.0
    return accuracy


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _weighted(accuracy: dict[str, float], counts: dict[str, int], categories: Sequence[str]) -> float:
    total = sum(counts.get(c, 0) for c in categories)
    return sum(accuracy.get(c, 0.0) * counts.get(c, 0) for c in categories) / total if total else 0.0


def bfcl_summary(accuracy: dict[str, float], counts: dict[str, int] | None = None) -> dict[str, Any]:
    """BFCL's V3 and V4 overall formulas over whatever categories ran (a category that did not
    run counts as 0, as BFCL counts it; `covered` says which ran). Live groups are weighted by
    item count, as BFCL weights them; `counts` defaults to the full category sizes."""
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
    return {
        "v3": {"overall": _mean([v3_non_live, v3_live, multi_turn]), "non_live": v3_non_live, "live": v3_live,
               "multi_turn": multi_turn},
        "v4": {"overall": v4, "non_live": v4_non_live, "live": v4_live, "irrelevance": irrelevance,
               "multi_turn": multi_turn, "agentic": 0.0},
        "covered": sorted(accuracy),
    }  # fmt: skip


def accuracy_table(accuracy: dict[str, float], counts: dict[str, int] | None = None) -> str:
    lines = [f"{'BFCL category':<26}{'accuracy':>10}"]
    lines += [f"{c:<26}{a:>10.1%}" for c, a in accuracy.items()]
    lines.append(f"{'mean of these':<26}{_mean(list(accuracy.values())):>10.1%}")
    summary = bfcl_summary(accuracy, counts)
    lines.append(f"{'BFCL V3 overall':<26}{summary['v3']['overall']:>10.1%}")
    lines.append(f"{'BFCL V4 overall':<26}{summary['v4']['overall']:>10.1%}  (agentic not run: 0, as BFCL counts it)")
    if len(accuracy) < len(CATEGORIES):
        lines.append(f"  {len(CATEGORIES) - len(accuracy)} categories not run count as 0 in V3/V4")
    return "\n".join(lines)
