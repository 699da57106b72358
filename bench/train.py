"""Local GRPO cost on the embedded model (SmolLM2-135M, dense fp32 on the CPU).

    python bench/train.py [--steps 3]

Prints seconds per GRPO step (group 4, 64 new tokens) and the peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
from pathlib import Path

from inftool.config import LocalGRPOConfig, RewardConfig
from inftool.lm import ChatRequest
from inftool.lm.constrained import plain_messages
from inftool.train.local import EMBEDDED_HF_CACHE, base_checkpoint, local_grpo

ROOT = Path(__file__).resolve().parents[1]


def rows() -> list[dict]:
    tools = json.loads((ROOT / "recipes" / "specs" / "finance.openai.json").read_text())
    out = []
    for i, account in enumerate(["A7", "B12", "C3", "D44"]):
        call = {"id": "c0", "type": "function", "function": {"name": "get_account_balance",
                "arguments": json.dumps({"account_id": account})}}  # fmt: skip
        for expect_text in (False, True):
            messages = [{"role": "system", "content": "You are a helpful assistant."},
                        {"role": "user", "content": f"What's the balance of account {account}?"}]  # fmt: skip
            if expect_text:
                messages += [{"role": "assistant", "content": None, "tool_calls": [call]},
                             {"role": "tool", "tool_call_id": "c0", "content": '{"balance": 12.5}'}]  # fmt: skip
            calls = [] if expect_text else [{"name": "get_account_balance", "arguments": {"account_id": account}}]
            prompt = plain_messages(ChatRequest(messages=messages, tools=tools))
            out.append({"id": f"{i}-{expect_text}", "prompt": prompt,
                        "label": json.dumps({"kind": "single", "calls": calls, "tools": tools})})  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    base_checkpoint(None, EMBEDDED_HF_CACHE)  # the GGUF export happens once, outside the timing
    cfg = LocalGRPOConfig(steps=args.steps, group_size=4, max_new_tokens=64)
    result = local_grpo(rows(), cfg, RewardConfig(), Path(tempfile.mkdtemp()), EMBEDDED_HF_CACHE)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table = [
        ("steps (group 4, 64 new tokens)", str(result.steps)),
        ("seconds per GRPO step", f"{result.seconds_per_step:.1f}"),
        ("mean reward per step", ", ".join(f"{r:.2f}" for r in result.rewards)),
        ("peak RSS", f"{peak_mib:,.0f} MiB"),
    ]
    width = max(len(k) for k, _ in table)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in table))


if __name__ == "__main__":
    main()
