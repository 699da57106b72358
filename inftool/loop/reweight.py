"""Re-weight: the held-out failures of a round's latest evaluation → the next round's kind
weights, domain weights and variations of the failed items."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inftool.config import InftoolConfig
from inftool.eval.gaps import next_mix
from inftool.eval.heldout import read_items, read_results
from inftool.loop.evaluate import Evaluator
from inftool.loop.records import RoundInputs


def reweight(config: InftoolConfig, evaluator: Evaluator, round_dir: Path, inputs: RoundInputs,
             index: int) -> dict[str, Any]:  # fmt: skip
    """Held-out failures of this round's latest evaluation → the next round's mix."""
    folder = round_dir / ("eval" if (round_dir / "eval" / "heldout.jsonl").is_file() else "baseline")
    results = read_results(folder / "heldout.jsonl")
    items = read_items(evaluator.run_dir / "heldout" / "items.jsonl")  # written by that evaluation
    mix = next_mix(items, results, inputs.weights, [ts.name for ts in evaluator.toolsets],
                   config.loop.weight_floor, config.loop.variations, index, config.seed)  # fmt: skip
    print("next round's kind weights: " + ", ".join(f"{k} {w:.2f}" for k, w in mix["weights"].items()))
    print(f"next round's variations of failed held-out items: {len(mix['variations'])}")
    return mix
