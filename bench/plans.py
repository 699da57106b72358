"""Plan synthesis on the embedded model: how many planned episodes of the five single-turn kinds
verify on their own (the plan gate), and verified decisions per minute (issue 13's targets:
>= 70 % verified, >= 30 verified decisions/min on 2 cores). Prints the table, then N random
verified plans (message and calls) to read as a user would.

    python bench/plans.py [--episodes 40] [--message lm|template] [--policy never|always] [--show 20]
                          [--run-dir DIR] [--recipe NAME]

--policy never (the default) times plan synthesis alone, as an SFT round runs it; always adds the
policy's answer to every episode (the easy/hard split a GRPO round needs), so its rate is lower.

Runs `inftool` (the quickstart recipe unless --recipe, synthesis only, single-turn kinds) in a subprocess; the
anchor is the wall time of the same run, so the rate is verified decisions per wall minute.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

SINGLE_TURN = ("single", "parallel", "multiple", "parallel_multiple", "irrelevance")
OTHER_KINDS = ("multi_step", "multi_turn", "clarify")


def verified_plans(run_dir: Path) -> tuple[int, list[dict]]:
    """(episodes, the verified ones) from the round's store."""
    rows = [json.loads(line) for path in sorted((run_dir / "round_0" / "data").glob("*-*.jsonl"))
            for line in path.read_text().splitlines() if line.strip()]  # fmt: skip
    verified = [r for r in rows if any(g["gate"] == "plan" and g["passed"] for g in r["gates"])]
    return len(rows), verified


def describe(item: dict) -> str:
    traj = item["trajectory"]
    turn = traj["plan"]["turns"][0]
    calls = "; ".join(f"{c['name']} {json.dumps(c['arguments'])}" for c in turn["calls"]) or "(no call)"
    return f"[{traj['scenario']['kind']}, {turn.get('source', 'lm')}] {turn['user_message']!r}\n      -> {calls}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=40)
    parser.add_argument("--message", choices=["lm", "template"], default="lm", help="who writes the user message")
    parser.add_argument("--policy", choices=["never", "always"], default="never", help="the assistant answers too")
    parser.add_argument("--show", type=int, default=20, help="random verified plans to print")
    parser.add_argument("--run-dir", type=Path, default=Path("outputs/bench-plans"))
    parser.add_argument("--recipe", default="quickstart", help="e.g. cpu_loop (ingesting APIs.guru takes minutes)")
    args = parser.parse_args()
    overrides = [f"recipe={args.recipe}", f"hydra.run.dir={args.run_dir}", f"synthesis.episodes={args.episodes}",
                 "loop.rounds=1", "loop.stages=[synthesize]", "loop.baseline=false", "synthesis.max_turns=1",
                 f"agents.user.message={args.message}", f"synthesis.policy={args.policy}",
                 *(f"scenarios.weights.{k}=0" for k in OTHER_KINDS)]  # fmt: skip
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "inftool", *overrides], check=True, stdout=subprocess.DEVNULL)
    minutes = (time.perf_counter() - start) / 60
    episodes, verified = verified_plans(args.run_dir)
    decisions = len(verified)  # one decision per single-turn plan
    print(f"{'episodes (5 single-turn kinds)':<34}{episodes:>8}")
    print(f"{'plans verified':<34}{len(verified):>8}  ({len(verified) / max(episodes, 1):.0%}; target >= 70 %)")
    print(f"{'wall minutes (whole command)':<34}{minutes:>8.1f}  (policy {args.policy}; ingest included)")
    print(f"{'verified decisions / minute':<34}{decisions / minutes:>8.1f}  (target >= 30 on 2 cores)")
    by_kind = {k: sum(v["trajectory"]["scenario"]["kind"] == k for v in verified) for k in SINGLE_TURN}
    print("verified per kind: " + ", ".join(f"{k} {n}" for k, n in by_kind.items()))
    print(f"\n{min(args.show, len(verified))} random verified plans:")
    for item in random.Random(0).sample(verified, min(args.show, len(verified))):
        print(f"  - {describe(item)}")


if __name__ == "__main__":
    main()
