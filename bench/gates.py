"""Verification throughput: tool calls checked per second through format + schema + consistency.

    python bench/gates.py [--episodes 20000]

Target (issue 5): >= 20,000 calls/s on 2 cores. Episodes are built in memory (2-3 calls each,
correct and subtly wrong mixed) so only the gates are timed.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from inftool.agents import Plan, PlannedCall, PlannedTurn
from inftool.gates import ConsistencyGate, FormatGate, GateChain, SchemaGate
from inftool.rollout import Execution, Trajectory
from inftool.scenarios import Scenario
from inftool.specs import load_toolset

SPECS = Path(__file__).resolve().parents[1] / "recipes" / "specs"


def build(rng: random.Random, index: int, tools: dict) -> tuple[Trajectory, int]:
    name = rng.choice(["transfer_funds", "convert_money", "get_account_balance"])
    tool = tools[name]
    n = rng.choice([2, 3])
    planned = []
    for i in range(n):
        args = {
            "transfer_funds": {
                "from_account": f"ACC-{i}",
                "to_account": "ACC-9",
                "amount": 10.5 + i,
                "currency": "EUR",
            },
            "convert_money": {"amount": 100 + i, "from_currency": "USD", "to_currency": "JPY"},
            "get_account_balance": {"account_id": f"ACC-{index}-{i}"},
        }[name]
        planned.append(PlannedCall(name=name, arguments=args))
    made = [dict(c.arguments) for c in reversed(planned)]  # order-free match
    if rng.random() < 0.3:  # a wrong value in the last call
        key = next(iter(made[-1]))
        made[-1][key] = "WRONG" if isinstance(made[-1][key], str) else -1
    calls = [{"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(a)}}
             for i, a in enumerate(made)]  # fmt: skip
    turn = PlannedTurn(user_message=f"request {index}", calls=planned)
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": turn.user_message},
                {"role": "assistant", "content": None, "tool_calls": calls}]  # fmt: skip
    executions = [Execution(call_id=c["id"], name=name, arguments=a, result="{}", is_error=False)
                  for c, a in zip(calls, made, strict=True)]  # fmt: skip
    scenario = Scenario(id=f"b{index}", kind="parallel", toolset="finance", domain="finance", offered=[tool],
                        targets=[name], calls_per_target=[n])  # fmt: skip
    traj = Trajectory(id=scenario.id, scenario=scenario, plan=Plan(goal="g", turns=[turn]), messages=messages,
                      executions=executions)  # fmt: skip
    return traj, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=20000)
    args = parser.parse_args()
    tools = {t.name: t for t in load_toolset("finance", SPECS / "finance.openai.json").tools}
    rng = random.Random(0)
    built = [build(rng, i, tools) for i in range(args.episodes)]
    chain = GateChain([FormatGate(), SchemaGate(), ConsistencyGate()])
    chain(built[0][0])  # compile the validators once, as a run does
    start = time.perf_counter()
    accepted = sum(chain(traj).accepted for traj, _ in built)
    seconds = time.perf_counter() - start
    calls = sum(n for _, n in built)
    rows = [
        ("episodes / calls", f"{len(built):,} / {calls:,}"),
        ("accepted", f"{accepted:,} ({accepted / len(built):.0%}; ~70 % are built correct)"),
        ("seconds", f"{seconds:.2f}"),
        ("calls verified/s", f"{calls / seconds:,.0f}  (target >= 20,000; ratio {calls / seconds / 20000:.2f}x)"),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))


if __name__ == "__main__":
    main()
