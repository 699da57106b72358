"""Held-out synthetic evaluation: a fixed test set drawn once per run dir from the same toolsets
with its own seed (never trained on), scored on the assistant's first decision per scenario kind
and per domain. Its failures are the capability gaps the next round targets (`eval.gaps`)."""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from inftool.agents import Assistant, UserSimulator
from inftool.eval.runner import gather_bounded
from inftool.gates.matcher import expected_from, match_calls
from inftool.scenarios import Scenario, ScenarioSampler
from inftool.specs import Toolset


class HeldoutItem(BaseModel):
    """One test prompt: the system prompt and the user's first message, and the calls the first
    decision must make (none for irrelevance and clarify)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    scenario: Scenario
    messages: list[dict[str, Any]]
    expected: list[dict[str, Any]]


class HeldoutResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    domain: str
    passed: bool
    reason: str = ""
    calls: list[dict[str, Any]]


def build_heldout(toolsets: Sequence[Toolset], user: UserSimulator, system_prompt: str, n: int, seed: int,
                  weights: dict[str, float], distractors: int = 2, personas: Sequence[str] = (),
                  concurrency: int = 2, near_irrelevance: float = 0.0,
                  near_distractors: float = 0.0) -> list[HeldoutItem]:  # fmt: skip
    """`n` held-out items; a scenario whose plan fails is replaced by none (the set may be shorter)."""
    sampler = ScenarioSampler(toolsets, distractors, seed, personas, prefix="h", near_irrelevance=near_irrelevance,
                              near_distractors=near_distractors)  # fmt: skip
    scenarios = sampler.sample(n, weights)

    async def plan(scenario: Scenario) -> HeldoutItem | None:
        try:
            planned = await user.acall(scenario)
        except Exception:  # a garbled plan drops the item; the set is fixed once written
            return None
        calls = planned.first_decision(scenario.kind)
        first = planned.turns[0].user_message
        messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": first}]
        expected = [{"name": c.name, "arguments": c.arguments} for c in calls]
        return HeldoutItem(id=scenario.id, scenario=scenario, messages=messages, expected=expected)

    items = asyncio.run(gather_bounded(scenarios, plan, concurrency, "held-out set"))
    return [i for i in items if i is not None]


def read_items(path: Path) -> list[HeldoutItem]:
    return [HeldoutItem.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()]


def load_or_build_heldout(path: Path, build: Any) -> list[HeldoutItem]:
    """The set is fixed per run dir: built on first use, read back on every later round."""
    if path.is_file():
        return read_items(path)
    items = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(item.model_dump_json() + "\n" for item in items))
    tmp.replace(path)  # all or nothing: a killed build is rebuilt, never half-read
    return items


def score_heldout(items: Sequence[HeldoutItem], assistant: Assistant, out_path: Path, concurrency: int = 1,
                  seed: int = 0) -> list[HeldoutResult]:  # fmt: skip
    async def score(item: HeldoutItem) -> HeldoutResult:
        scenario = item.scenario
        base = {"id": item.id, "kind": scenario.kind, "domain": scenario.domain}
        tools = [t.openai_tool() for t in scenario.offered]
        try:
            # a first decision is scored by its calls alone: a text answer is not decoded past its start
            result = await assistant.acall(item.messages, tools, seed=seed, answer_max_chars=0)
        except Exception as exc:
            return HeldoutResult(**base, passed=False, reason=f"assistant failed: {exc}"[:200], calls=[])
        calls = [(c.name, c.arguments) for c in result.tool_calls]
        shown = [{"name": n, "arguments": a} for n, a in calls]
        if not item.expected:
            reason = f"called {calls[0][0]} instead of answering in text" if calls else None
        else:
            wanted = [expected_from(c["name"], c["arguments"]) for c in item.expected]
            reason = match_calls(calls, wanted, {t.name: t for t in scenario.offered}, ordered=False)
        return HeldoutResult(**base, passed=reason is None, reason=reason or "", calls=shown)

    results = asyncio.run(gather_bounded(items, score, concurrency, "held-out eval"))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text("".join(r.model_dump_json() + "\n" for r in results))
    return results


def accuracy_by(results: Sequence[HeldoutResult], key: str) -> dict[str, float]:
    counts: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for r in results:
        counts[getattr(r, key)][0] += r.passed
        counts[getattr(r, key)][1] += 1
    return {k: passed / n for k, (passed, n) in sorted(counts.items())}


def heldout_summary(results: Sequence[HeldoutResult]) -> dict[str, Any]:
    overall = sum(r.passed for r in results) / len(results) if results else 0.0
    return {"items": len(results), "accuracy": overall, "by_kind": accuracy_by(results, "kind"),
            "by_domain": accuracy_by(results, "domain")}  # fmt: skip


def heldout_table(summary: dict[str, Any]) -> str:
    lines = [f"held-out synthetic set: {summary['accuracy']:.1%} of {summary['items']} first decisions"]
    for key in ("by_kind", "by_domain"):
        lines.append("  " + ", ".join(f"{k} {v:.0%}" for k, v in summary[key].items()))
    return "\n".join(lines)


def read_results(path: Path) -> list[HeldoutResult]:
    return [HeldoutResult.model_validate(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
