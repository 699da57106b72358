"""The run summary: pass rate per gate and per scenario kind, top rejection reasons, distinct
tool combinations, and the distinct-n-gram ratio of the user requests (diversity)."""

from __future__ import annotations

import collections
import re
from collections.abc import Sequence
from typing import Any

from inftool.gates.records import GatedTrajectory


def distinct_ngram_ratio(texts: Sequence[str], n: int = 2) -> float:
    grams = [
        tuple(words[i : i + n])
        for t in texts
        for words in [re.findall(r"\w+", t.lower())]
        for i in range(len(words) - n + 1)
    ]
    return len(set(grams)) / len(grams) if grams else 0.0


def summarize(items: Sequence[GatedTrajectory]) -> dict[str, Any]:
    gate_counts: dict[str, list[int]] = {}
    kinds: dict[str, list[int]] = {}
    reasons: collections.Counter[str] = collections.Counter()
    combos = set()
    requests = []
    for item in items:
        for result in item.gates:
            stats = gate_counts.setdefault(result.gate, [0, 0])
            stats[0] += result.passed
            stats[1] += 1
        kind = kinds.setdefault(item.trajectory.scenario.kind, [0, 0])
        kind[0] += item.accepted
        kind[1] += 1
        if (failed := item.rejected_by) is not None:
            reasons[f"{failed.gate}: {re.sub(r'[0-9]+', 'N', failed.reason)[:90]}"] += 1
        if item.accepted:
            combos.add(tuple(sorted(t.name for t in item.trajectory.scenario.offered)))
            requests.append(next((m["content"] for m in item.trajectory.messages if m["role"] == "user"), ""))
    return {
        "episodes": len(items),
        "accepted": sum(i.accepted for i in items),
        "gate_pass_rate": {g: p / n for g, (p, n) in gate_counts.items()},
        "kind_accept_rate": {k: a / n for k, (a, n) in kinds.items()},
        "top_rejections": reasons.most_common(8),
        "distinct_tool_combinations": len(combos),
        "distinct_2gram_ratio": distinct_ngram_ratio(requests),
    }


def summary_text(summary: dict[str, Any]) -> str:
    lines = [f"accepted {summary['accepted']} of {summary['episodes']} episodes", "", f"{'gate':<14}{'pass rate':>10}"]
    lines += [f"{g:<14}{r:>10.0%}" for g, r in summary["gate_pass_rate"].items()]
    lines += ["", f"{'kind':<20}{'accepted':>9}"] + [
        f"{k:<20}{r:>9.0%}" for k, r in summary["kind_accept_rate"].items()
    ]
    if summary["top_rejections"]:
        lines += ["", "top rejection reasons:"] + [f"  {n:>5}  {r}" for r, n in summary["top_rejections"]]
    lines += ["", f"distinct tool combinations: {summary['distinct_tool_combinations']}",
              f"distinct 2-gram ratio of user requests: {summary['distinct_2gram_ratio']:.2f}"]  # fmt: skip
    return "\n".join(lines)
