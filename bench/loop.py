"""A longer closed loop on the CPU: the embedded model's BFCL non-live score per round beside
round 0's baseline (a small-scale replica of the paper's 19.8 % -> 70.9 %).

    python bench/loop.py [--rounds 4] [--episodes 24] [--steps 8] [--limit 20] [--run-dir DIR]

Runs `inftool` (the quickstart recipe, scaled up by these flags) in a subprocess, then prints one
row per evaluation from RUN/loop_summary.json. Rerun with the same --run-dir to resume.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from inftool.eval import NON_LIVE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--episodes", type=int, default=24)
    parser.add_argument("--steps", type=int, default=8, help="GRPO steps per round")
    parser.add_argument("--limit", type=int, default=20, help="BFCL items per non-live category per evaluation")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--run-dir", type=Path, default=Path("outputs/bench-loop"))
    args = parser.parse_args()
    overrides = [f"hydra.run.dir={args.run_dir}", f"loop.rounds={args.rounds}", f"synthesis.episodes={args.episodes}",
                 f"trainer.steps={args.steps}", f"trainer.learning_rate={args.lr}", f"eval.limit={args.limit}",
                 f"eval.categories=[{','.join(NON_LIVE)}]", "loop.heldout.items=16"]  # fmt: skip
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "inftool", *overrides], check=True)
    wall = time.perf_counter() - start
    history = json.loads((args.run_dir / "loop_summary.json").read_text())
    evaluations = [("round 0 (base)", history[0].get("baseline", {}))]
    evaluations += [(f"after round {r['round']}", r.get("eval", {})) for r in history]
    header = f"{'evaluation':<18}" + "".join(f"{c[:12]:>13}" for c in NON_LIVE) + f"{'mean':>8}{'held-out':>10}"
    print("\n" + header)
    for label, evaluation in evaluations:
        bfcl = evaluation.get("bfcl", {})
        mean = sum(bfcl.values()) / len(bfcl) if bfcl else float("nan")
        heldout = evaluation.get("heldout", {}).get("accuracy", float("nan"))
        print(f"{label:<18}" + "".join(f"{bfcl.get(c, float('nan')):>13.1%}" for c in NON_LIVE)
              + f"{mean:>8.1%}{heldout:>10.1%}")  # fmt: skip
    print(f"\n{args.limit} items per category per evaluation; wall time {wall / 60:.1f} min")


if __name__ == "__main__":
    main()
