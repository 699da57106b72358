"""Capability gaps → the next round's mix (the paper's "data targeting capability gaps").

Held-out failure rates per scenario kind and per domain become the next round's weights (never
below a floor, so no kind vanishes), and failed held-out items seed new variations: the same
tools and kind with a fresh seed, so the user simulator draws a new plan and request.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from inftool.eval.heldout import HeldoutItem, HeldoutResult, accuracy_by
from inftool.scenarios import Scenario


def failure_weights(accuracy: dict[str, float], current: dict[str, float], floor: float) -> dict[str, float]:
    """max(floor, failure rate) for every key with a positive current weight; keys the
    held-out set did not cover keep their current weight."""
    return {
        key: (max(floor, 1.0 - accuracy[key]) if key in accuracy else weight) if weight > 0 else 0.0
        for key, weight in current.items()
    }


def variations(items: Sequence[HeldoutItem], results: Sequence[HeldoutResult], n: int, round_index: int,
               seed: int) -> list[Scenario]:  # fmt: skip
    """Up to `n` scenarios replaying failed held-out items with new ids and seeds."""
    failed = {r.id for r in results if not r.passed}
    pool = [item.scenario for item in items if item.id in failed]
    rng = random.Random(f"{seed}-variations-{round_index}")
    picked = rng.sample(pool, min(n, len(pool)))
    return [
        s.model_copy(update={"id": f"v{round_index}-{i:05d}", "seed": rng.randrange(2**31)})
        for i, s in enumerate(picked)
    ]


def next_mix(items: Sequence[HeldoutItem], results: Sequence[HeldoutResult], kind_weights: dict[str, float],
             domains: Sequence[str], floor: float, n_variations: int, round_index: int,
             seed: int) -> dict[str, Any]:  # fmt: skip
    """The re-weight step's output: kind weights, domain weights and seeded variations."""
    return {
        "weights": failure_weights(accuracy_by(results, "kind"), kind_weights, floor),
        "domain_weights": failure_weights(accuracy_by(results, "domain"), dict.fromkeys(domains, 1.0), floor),
        "variations": [s.model_dump(mode="json") for s in variations(items, results, n_variations, round_index, seed)],
    }
