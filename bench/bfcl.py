"""BFCL non-live evaluation of the embedded model (SmolLM2-135M, llama.cpp, 2 cores).

    python bench/bfcl.py [--limit N] [--categories simple_python multiple ...]

All seven non-live categories (1,390 items) by default. Prints accuracy per category, BFCL's
V3/V4 summaries over what ran, the wall time and its ratio to the 15-minute target.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from inftool.config import EmbeddedLMConfig
from inftool.eval import NON_LIVE, accuracy_table, evaluate_bfcl
from inftool.lm import build_client

TARGET_S = 15 * 60
FULL_ITEMS = 1390


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="items per category (default: all)")
    parser.add_argument("--categories", nargs="+", default=list(NON_LIVE))
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp()) / "bfcl.jsonl")
    args = parser.parse_args()
    client = build_client("assistant", EmbeddedLMConfig())
    start = time.perf_counter()
    accuracy = evaluate_bfcl(client, args.categories, args.out, args.limit, seed=0, concurrency=1)
    wall = time.perf_counter() - start
    counts = Counter(json.loads(line)["category"] for line in args.out.read_text().splitlines())
    print(accuracy_table(accuracy))
    items = sum(counts.values())
    print(f"\n{'items':<26}{items:>10,}")
    print(f"{'wall time':<26}{wall / 60:>9.1f} min  ({wall / items:.2f} s/item)")
    full = wall / items * FULL_ITEMS  # the whole non-live set at this rate
    label = "all 1,390 items" if items == FULL_ITEMS else "projected, 1,390 items"
    print(f"{label:<26}{full / 60:>9.1f} min  = {full / TARGET_S:.2f}x the 15-min target (lower is better)")
    print(f"per-item results: {args.out}")


if __name__ == "__main__":
    main()
