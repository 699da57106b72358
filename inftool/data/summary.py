"""The run summary: the two sides of every episode (plan yield: verified plans; policy accuracy:
the policy right on a verified plan; easy/hard per kind; why plans were refused), pass rate per
gate and per scenario kind, top rejection reasons, distinct tool combinations, and the
distinct-n-gram ratio of the user requests (diversity)."""

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


def _reason(result: Any) -> str:
    return f"{result.gate}: {re.sub(r'[0-9]+', 'N', result.reason)[:90]}"


def two_sides(items: Sequence[GatedTrajectory]) -> dict[str, Any]:
    """Plan yield, policy accuracy on verified plans, easy/hard per kind, top plan refusals."""
    sides: dict[str, collections.Counter[str]] = {}
    refusals: collections.Counter[str] = collections.Counter()
    for item in items:
        sides.setdefault(item.trajectory.scenario.kind, collections.Counter())[item.side] += 1
        if item.side == "refused" and (failed := item.rejected_by) is not None:
            refusals[_reason(failed)] += 1
    total = collections.Counter[str]()
    for counts in sides.values():
        total.update(counts)
    verified = total["easy"] + total["hard"] + total["dropped"]
    judged = total["easy"] + total["hard"]
    return {
        "plans_verified": verified,
        "plan_yield": verified / len(items) if items else 0.0,
        "policy_accuracy": total["easy"] / judged if judged else 0.0,
        "sides_per_kind": {k: {s: c[s] for s in ("easy", "hard", "refused", "dropped")} for k, c in sides.items()},
        "top_plan_refusals": refusals.most_common(8),
    }


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
            reasons[_reason(failed)] += 1
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
        **two_sides(items),
    }


def summary_text(summary: dict[str, Any]) -> str:
    lines = [
        f"accepted {summary['accepted']} of {summary['episodes']} episodes; plans verified "
        f"{summary['plans_verified']} ({summary['plan_yield']:.0%}); policy right on "
        f"{summary['policy_accuracy']:.0%} of the verified plans it was judged on",
        "",
        f"{'kind':<20}{'easy':>6}{'hard':>6}{'refused':>9}{'dropped':>9}",
        *(
            f"{k:<20}{c['easy']:>6}{c['hard']:>6}{c['refused']:>9}{c['dropped']:>9}"
            for k, c in summary["sides_per_kind"].items()
        ),
        "",
        f"{'gate':<14}{'pass rate':>10}",
    ]
    lines += [f"{g:<14}{r:>10.0%}" for g, r in summary["gate_pass_rate"].items()]
    lines += ["", f"{'kind':<20}{'accepted':>9}"] + [
        f"{k:<20}{r:>9.0%}" for k, r in summary["kind_accept_rate"].items()
    ]
    if summary["top_plan_refusals"]:
        lines += ["", "top reasons a plan was refused:"] + [f"  {n:>5}  {r}" for r, n in summary["top_plan_refusals"]]
    if summary["top_rejections"]:
        lines += ["", "top rejection reasons:"] + [f"  {n:>5}  {r}" for r, n in summary["top_rejections"]]
    lines += ["", f"distinct tool combinations: {summary['distinct_tool_combinations']}",
              f"distinct 2-gram ratio of user requests: {summary['distinct_2gram_ratio']:.2f}"]  # fmt: skip
    return "\n".join(lines)
