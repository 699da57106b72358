"""The closed loop on the CPU: does it lift the embedded model on BFCL? Runs a recipe (default
`recipes/cpu_loop.yaml`: SFT cold start, then GRPO) and prints BFCL per category after each round
beside the baseline measured in the same run, the mean of the categories, the share of items in
the call categories where the model called at all, held-out synthetic accuracy per kind, how the
calls made compare with BFCL's answers (no call, too few, too many, a wrong call, right) and the
minutes each step took (summed over resumed runs too).

    python bench/loop.py                                  # recipe=cpu_loop, all items (<= 3 h on 2 cores)
    python bench/loop.py --recipe quickstart --limit 20   # any recipe, fewer BFCL items per category
    python bench/loop.py --run-dir DIR -- KEY=VALUE ...   # extra inftool overrides after --

Runs `inftool` in a subprocess, then reads RUN/loop_summary.json (its finished rounds, a killed run's
too). Rerun with the same --run-dir to resume (each finished step is kept) or just to print the table
again (--table-only).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CALL_CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple")


def evaluations(history: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(label, eval record) for the baseline and after each round, labelled by what the round trained."""
    rows = [("baseline", history[0].get("baseline") or {})]
    for record in history:
        parts = [k.removeprefix("local_") for k in ("local_sft", "local_grpo") if k in (record.get("train") or {})]
        trained = "+".join(parts)
        rows.append((f"round {record['round']} ({trained or 'no training'})", record.get("eval") or {}))
    return [(label, e) for label, e in rows if e.get("bfcl")]


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def table(history: list[dict[str, Any]]) -> str:
    evals = evaluations(history)
    if not evals:
        return "no BFCL evaluation in loop_summary.json yet"
    categories = list(evals[0][1]["bfcl"])
    kinds = sorted({k for _, e in evals for k in (e.get("heldout") or {}).get("by_kind", {})})
    header = (f"{'evaluation':<22}" + "".join(f"{c[:13]:>14}" for c in categories)
              + f"{'mean':>8}{'x base':>8}{'called':>8}{'held-out':>10}")  # fmt: skip
    lines = [header]
    base_mean = mean(list(evals[0][1]["bfcl"].values()))
    for label, e in evals:
        bfcl, called = e["bfcl"], (e.get("bfcl_summary") or {}).get("called", {})
        score = mean([bfcl.get(c, float("nan")) for c in categories])
        call_share = mean([called[c] for c in CALL_CATEGORIES if c in called])
        heldout = (e.get("heldout") or {}).get("accuracy", float("nan"))
        lines.append(f"{label:<22}" + "".join(f"{bfcl.get(c, float('nan')):>14.1%}" for c in categories)
                     + f"{score:>8.1%}{score / base_mean if base_mean else float('nan'):>7.2f}x"
                     + f"{call_share:>8.1%}{heldout:>10.1%}")  # fmt: skip
    if kinds:
        lines += ["", f"{'held-out by kind':<22}" + "".join(f"{k[:13]:>14}" for k in kinds)]
        for label, e in evals:
            by_kind = (e.get("heldout") or {}).get("by_kind", {})
            lines.append(f"{label:<22}" + "".join(f"{by_kind.get(k, float('nan')):>14.1%}" for k in kinds))
    return "\n".join(lines)


def training(history: list[dict[str, Any]]) -> str:
    """Per round: rows trained on, steps, SFT tokens/s, GRPO steps/min and reward mean±std."""
    head = f"{'round':<7}{'trainer':<10}{'rows':>7}{'steps':>7}{'s/step':>8}{'tokens/s':>10}{'steps/min':>11}"
    lines = [head + "  reward mean±std per step"]
    for record in history:
        for kind in ("local_sft", "local_grpo"):
            part = (record.get("train") or {}).get(kind)
            if not part:
                continue
            seconds = part.get("seconds_per_step") or float("nan")
            tokens = part.get("tokens_per_second")
            pairs = zip(part.get("rewards", []), part.get("reward_stds", []), strict=False)
            rewards = ", ".join(f"{r:.2f}±{s:.2f}" for r, s in pairs)
            lines.append(f"{record['round']:<7}{kind.removeprefix('local_'):<10}{part.get('rows', 0):>7}"
                         f"{part.get('steps', 0):>7}{seconds:>8.1f}{(tokens or float('nan')):>10.0f}"
                         f"{60 / seconds:>11.2f}  {rewards[:60]}")  # fmt: skip
    return "\n".join(lines)


def call_table(run_dir: Path, history: list[dict[str, Any]]) -> str:
    """Per evaluation and call category: items with no call, fewer or more calls than BFCL's answer,
    the right count with a wrong call, right (from each evaluation's per-item bfcl.jsonl)."""
    from inftool.eval.bfcl import CALL_COUNTS, ItemResult, call_counts
    from inftool.eval_data import read_jsonl

    files = [("baseline", run_dir / "round_0" / "baseline" / "bfcl.jsonl")]
    files += [(f"round {r['round']}", run_dir / f"round_{r['round']}" / "eval" / "bfcl.jsonl") for r in history]
    lines = [f"{'calls vs BFCL answer':<22}{'category':<19}" + "".join(f"{c:>13}" for c in CALL_COUNTS)]
    for label, path in files:
        if not path.is_file():
            continue
        results = [ItemResult(**row) for row in read_jsonl(path)]
        for category, counts in call_counts(results).items():
            if category in CALL_CATEGORIES:
                lines.append(f"{label:<22}{category:<19}" + "".join(f"{counts[c]:>13}" for c in CALL_COUNTS))
    return "\n".join(lines) if len(lines) > 1 else "no per-item BFCL results in the run dir"


def step_times(run_dir: Path) -> str:
    """Minutes per step and round, from the markers' wall times: a run resumed in another process
    (or session) still adds up to the time its steps took."""
    from inftool.loop.markers import step_seconds

    rounds = {int(d.name.removeprefix("round_")): step_seconds(d) for d in run_dir.glob("round_*") if d.is_dir()}
    if not any(rounds.values()):
        return "no step times recorded (a run from before they were)"
    names = list(dict.fromkeys(name for _, steps in sorted(rounds.items()) for name in steps))
    lines = [f"{'minutes':<10}" + "".join(f"{n[:11]:>12}" for n in names) + f"{'round':>10}"]
    for index, steps in sorted(rounds.items()):
        cells = "".join(f"{steps[n] / 60:>12.1f}" if n in steps else f"{'-':>12}" for n in names)
        lines.append(f"{'round ' + str(index):<10}{cells}{sum(steps.values()) / 60:>10.1f}")
    total = sum(sum(steps.values()) for steps in rounds.values())
    lines.append(f"steps in all: {total / 60:.1f} min (ingest and start-up not included)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="cpu_loop")
    parser.add_argument("--limit", type=int, default=None, help="BFCL items per category (default: the recipe's)")
    parser.add_argument("--run-dir", type=Path, default=Path("outputs/bench-loop"))
    parser.add_argument("--table-only", action="store_true", help="print the table of an earlier run")
    parser.add_argument("overrides", nargs="*", help="more inftool overrides (after --)")
    args = parser.parse_args()
    wall = None
    if not args.table_only:
        overrides = [f"recipe={args.recipe}", f"hydra.run.dir={args.run_dir}", *args.overrides]
        if args.limit is not None:
            overrides.append(f"eval.limit={args.limit}")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "inftool", *overrides], check=True)
        wall = time.perf_counter() - start
    from inftool.loop.markers import SUMMARY

    summary = args.run_dir / SUMMARY  # rewritten as each round ends: a killed run keeps its rounds
    if not summary.is_file():
        sys.exit(f"bench/loop: no {summary}: no round of that run has finished yet (rerun without --table-only)")
    history = json.loads(summary.read_text())
    parts = [table(history), call_table(args.run_dir, history), training(history), step_times(args.run_dir)]
    print("\n" + "\n\n".join(parts))
    items = "all items" if args.limit is None else f"{args.limit} items"
    print(f"\nBFCL: {items} per category per evaluation (the recipe's eval.limit when not given)"
          + (f"; wall time {wall / 60:.1f} min" if wall is not None else ""))  # fmt: skip


if __name__ == "__main__":
    main()
