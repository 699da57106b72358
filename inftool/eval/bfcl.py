"""BFCL evaluation of any `assistant` LM on BFCL's own data (the `bfcl-eval` package files).

Each item's functions are offered as tools (names made valid, then mapped back), the model
answers once, and the gates' matcher scores the calls against BFCL's possible answers with
BFCL's AST semantics (`irrelevance` passes when no call is made). Per-item results go to a
JSONL file so any failure can be read.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from inftool.eval_data import bfcl_category, bfcl_tools
from inftool.gates.matcher import match_calls
from inftool.lm import ChatRequest, LMCallError, RoleClient
from inftool.specs.normalize import function_name

NON_LIVE = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")
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


async def evaluate_item(client: RoleClient, category: str, entry: dict, answer: dict | None) -> ItemResult:
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
    assert answer is not None
    reason = match_calls(calls, answer["ground_truth"], tools)
    return ItemResult(entry["id"], category, reason is None, reason or "", shown)


async def _evaluate(client: RoleClient, work: list[tuple[str, dict, dict | None]], concurrency: int,
                    progress: bool) -> list[ItemResult]:  # fmt: skip
    gate = asyncio.Semaphore(concurrency)
    bar = tqdm(total=len(work), unit="item", desc="BFCL", disable=not progress, dynamic_ncols=True)

    async def one(category: str, entry: dict, answer: dict | None) -> ItemResult:
        async with gate:
            result = await evaluate_item(client, category, entry, answer)
        bar.update()
        return result

    try:
        return list(await asyncio.gather(*(one(*w) for w in work)))
    finally:
        bar.close()


def evaluate_bfcl(client: RoleClient, categories: Sequence[str], out_path: Path, limit: int | None = None,
                  seed: int = 0, concurrency: int = 4, progress: bool = True) -> dict[str, float]:  # fmt: skip
    """Accuracy per category; every item's result is written to `out_path` (JSONL)."""
    work = [(c, entry, answer) for c in categories for entry, answer in sample(c, limit, seed)]
    results = asyncio.run(_evaluate(client, work, concurrency, progress))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8") as out:
        for r in results:
            out.write(json.dumps(r.__dict__, ensure_ascii=False) + "\n")
    accuracy = {}
    for category in categories:
        mine = [r for r in results if r.category == category]
        accuracy[category] = sum(r.passed for r in mine) / len(mine) if mine else 0.0
    return accuracy


def accuracy_table(accuracy: dict[str, float], counts: dict[str, int] | None = None) -> str:
    lines = [f"{'BFCL category':<24}{'accuracy':>10}"]
    lines += [f"{c:<24}{a:>10.1%}" for c, a in accuracy.items()]
    lines.append(f"{'mean':<24}{sum(accuracy.values()) / max(1, len(accuracy)):>10.1%}")
    return "\n".join(lines)
