"""The run summary: the two sides of every episode (plan yield: verified plans; policy accuracy:
the policy right on a verified plan; easy/hard per kind; why plans were refused), pass rate per
gate and per scenario kind, top rejection reasons, distinct tool combinations, and the
distinct-n-gram ratio of the user requests (diversity)."""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable
from typing import Any

from inftool.gates.records import GatedTrajectory

SIDES = ("easy", "hard", "unjudged", "refused", "dropped")


class NgramTally:
    """Distinct word n-grams over total, fed one text at a time. Grams are kept as their hashes
    (equal within a process, a collision as likely as 2^-64): a round's grams never sit in memory."""

    def __init__(self, n: int = 2) -> None:
        self.n = n
        self.distinct: set[int] = set()
        self.total = 0

    def add(self, text: str) -> None:
        words = re.findall(r"\w+", text.lower())
        grams = [hash(tuple(words[i : i + self.n])) for i in range(len(words) - self.n + 1)]
        self.total += len(grams)
        self.distinct.update(grams)

    def ratio(self) -> float:
        return len(self.distinct) / self.total if self.total else 0.0


def distinct_ngram_ratio(texts: Iterable[str], n: int = 2) -> float:
    tally = NgramTally(n)
    for text in texts:
        tally.add(text)
    return tally.ratio()


def _reason(result: Any) -> str:
    return f"{result.gate}: {re.sub(r'[0-9]+', 'N', result.reason)[:90]}"


class SidesTally:
    """Plan yield, policy accuracy on verified plans, easy/hard per kind, top plan refusals."""

    def __init__(self) -> None:
        self.sides: dict[str, collections.Counter[str]] = {}
        self.refusals: collections.Counter[str] = collections.Counter()
        self.items = 0

    def add(self, item: GatedTrajectory) -> None:
        self.items += 1
        self.sides.setdefault(item.trajectory.scenario.kind, collections.Counter())[item.side] += 1
        if item.side == "refused" and (failed := item.rejected_by) is not None:
            self.refusals[_reason(failed)] += 1

    def result(self) -> dict[str, Any]:
        total = collections.Counter[str]()
        for counts in self.sides.values():
            total.update(counts)
        verified = total["easy"] + total["hard"] + total["unjudged"] + total["dropped"]
        judged = total["easy"] + total["hard"]
        return {
            "plans_verified": verified,
            "plan_yield": verified / self.items if self.items else 0.0,
            "policy_accuracy": total["easy"] / judged if judged else None,  # None: the policy did not answer
            "sides_per_kind": {k: {s: c[s] for s in SIDES} for k, c in self.sides.items()},
            "top_plan_refusals": self.refusals.most_common(8),
        }


def two_sides(items: Iterable[GatedTrajectory]) -> dict[str, Any]:
    tally = SidesTally()
    for item in items:
        tally.add(item)
    return tally.result()


class SummaryTally:
    """The run summary, fed one gated trajectory at a time (a round streams from its store)."""

    def __init__(self) -> None:
        self.gate_counts: dict[str, list[int]] = {}
        self.kinds: dict[str, list[int]] = {}
        self.reasons: collections.Counter[str] = collections.Counter()
        self.combos: set[tuple[str, ...]] = set()
        self.requests = NgramTally(2)
        self.sides = SidesTally()
        self.episodes = self.accepted = 0

    def add(self, item: GatedTrajectory) -> None:
        self.episodes += 1
        self.accepted += item.accepted
        for result in item.gates:
            stats = self.gate_counts.setdefault(result.gate, [0, 0])
            stats[0] += result.passed
            stats[1] += 1
        kind = self.kinds.setdefault(item.trajectory.scenario.kind, [0, 0])
        kind[0] += item.accepted
        kind[1] += 1
        if (failed := item.rejected_by) is not None:
            self.reasons[_reason(failed)] += 1
        if item.accepted:
            self.combos.add(tuple(sorted(t.name for t in item.trajectory.scenario.offered)))
            self.requests.add(next((m["content"] for m in item.trajectory.messages if m["role"] == "user"), ""))
        self.sides.add(item)

    def result(self) -> dict[str, Any]:
        return {
            "episodes": self.episodes,
            "accepted": self.accepted,
            "gate_pass_rate": {g: p / n for g, (p, n) in self.gate_counts.items()},
            "kind_accept_rate": {k: a / n for k, (a, n) in self.kinds.items()},
            "top_rejections": self.reasons.most_common(8),
            "distinct_tool_combinations": len(self.combos),
            "distinct_2gram_ratio": self.requests.ratio(),
            **self.sides.result(),
        }


def summarize(items: Iterable[GatedTrajectory]) -> dict[str, Any]:
    tally = SummaryTally()
    for item in items:
        tally.add(item)
    return tally.result()


def summary_text(summary: dict[str, Any]) -> str:
    accuracy = summary["policy_accuracy"]
    policy = (f"policy right on {accuracy:.0%} of the verified plans it was judged on" if accuracy is not None
              else "the policy did not answer (synthesis.policy)")  # fmt: skip
    lines = [
        f"accepted {summary['accepted']} of {summary['episodes']} episodes; plans verified "
        f"{summary['plans_verified']} ({summary['plan_yield']:.0%}); {policy}",
        "",
        f"{'kind':<20}{'easy':>6}{'hard':>6}{'unjudged':>10}{'refused':>9}{'dropped':>9}",
        *(
            f"{k:<20}{c['easy']:>6}{c['hard']:>6}{c.get('unjudged', 0):>10}{c['refused']:>9}{c['dropped']:>9}"
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
