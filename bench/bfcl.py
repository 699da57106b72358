"""BFCL single-turn evaluation of the embedded model (SmolLM2-135M, llama.cpp, 2 cores), scored by
BFCL's own checker.

    python bench/bfcl.py [--live] [--limit N] [--categories simple_python multiple ...]

All seven non-live categories (1,390 items) by default; `--live` runs live_simple, live_multiple,
live_parallel, live_parallel_multiple and live_irrelevance instead (2,235 items). Prints accuracy
and calls made per category, must-call beside irrelevance, BFCL's V3/V4 summaries over what ran,
the time per item (overall and per category) and the projected time for the full set; for the
non-live set also its ratio to the 15-minute target (compare ratios from one machine, not
minutes across machines). Last, every verdict is checked against BFCL's eval runner on the same
saved outputs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from inftool.config import EmbeddedLMConfig
from inftool.eval import NON_LIVE, Scores, accuracy_table, evaluate_bfcl, official
from inftool.eval_data import bfcl_category
from inftool.lm import ChatRequest, build_client

TARGET_S = 15 * 60  # the non-live set on 2 cores
LIVE_SET = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple", "live_irrelevance")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--live", action="store_true", help="the live categories instead of the non-live ones")
    parser.add_argument("--limit", type=int, default=None, help="items per category (default: all)")
    parser.add_argument("--categories", nargs="+", default=None, help="overrides the set --live picks")
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp()) / "bfcl.jsonl")
    args = parser.parse_args()
    categories = args.categories or list(LIVE_SET if args.live else NON_LIVE)
    client = build_client("assistant", EmbeddedLMConfig())
    began = time.perf_counter()  # start-up apart, so each category's rate is its own
    client.complete(ChatRequest(messages=[{"role": "user", "content": "Hi"}], max_tokens=1))
    official.checker()
    startup = time.perf_counter() - began
    timed: dict[str, float] = {}
    accuracy = Scores({}, {}, {})
    parts = []
    start = time.perf_counter()
    for category in categories:  # one category at a time, for its time per item
        began = time.perf_counter()
        parts.append(args.out.with_suffix(f".{category}.jsonl"))
        part = evaluate_bfcl(client, [category], parts[-1], args.limit, seed=0, concurrency=1)
        timed[category] = time.perf_counter() - began
        accuracy = Scores({**accuracy, **part}, {**accuracy.sizes, **part.sizes}, {**accuracy.called, **part.called})
    wall = time.perf_counter() - start
    args.out.write_text("".join(p.read_text(encoding="utf-8") for p in parts), encoding="utf-8")
    for p in parts:
        p.unlink()
    items = accuracy.sizes
    print(accuracy_table(accuracy))
    print(f"\n{'category':<26}{'items':>7}{'s/item':>9}")
    for category in categories:
        print(f"{category:<26}{items[category]:>7}{timed[category] / max(items[category], 1):>9.2f}")
    ran = sum(items.values())
    print(f"{'all':<26}{ran:>7}{wall / ran:>9.2f}")
    full_items = sum(len(bfcl_category(c)) for c in categories)
    full = startup + sum(timed[c] / max(items[c], 1) * len(bfcl_category(c)) for c in categories)  # per-category rates
    label = f"all {full_items:,} items" if ran == full_items else f"projected, {full_items:,} items"
    print(f"\n{'start-up':<26}{startup:>9.1f} s    (model load, checker import)")
    print(f"{'wall time':<26}{wall / 60:>9.1f} min  ({wall / ran:.2f} s/item, start-up not included)")
    line = f"{label:<26}{full / 60:>9.1f} min"
    if set(categories) == set(NON_LIVE):
        line += f"  = {full / TARGET_S:.2f}x the 15-min target for the non-live set (lower is better)"
    print(line)
    print(f"per-item results: {args.out}")
    print(crosscheck(args.out))


def crosscheck(path: Path) -> str:
    """Every saved verdict against BFCL's eval runner's own (its per-entry functions, same outputs)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    items = {e["id"]: (e, a) for c in {r["category"] for r in rows} for e, a in bfcl_category(c)}
    same = sum(official.runner_verdict(r["category"], *items[r["id"]], r["calls"]) == r["passed"] for r in rows)
    ours = sum(r["passed"] for r in rows)
    return f"BFCL's eval runner on the same outputs: {same}/{len(rows)} verdicts equal ({ours} items pass here)"


if __name__ == "__main__":
    main()
