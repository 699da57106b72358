"""LM layer overhead: the embedded backend vs raw llama-cpp-python, and the openai backend's
throughput against an instant loopback endpoint.

    python bench/lm.py                       # both parts
    python bench/lm.py --part embedded|openai

Targets (issue 3): embedded tokens/s >= 0.9 x raw llama-cpp-python on the same prompts;
openai backend >= 500 calls/s at concurrency 64 on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from inftool.config import EmbeddedLMConfig, OpenAILMConfig, RetryConfig
from inftool.lm import ChatRequest, build_client
from inftool.lm.loopback import free_port

PROMPTS = [
    "Explain what an API is in two sentences.",
    "Write a short note asking a colleague to review a pull request.",
    "List three uses of a hash map.",
    "Describe a rainy afternoon in a city.",
    "What is the difference between a list and a tuple in Python?",
    "Give advice for a first marathon.",
]


def bench_embedded(max_tokens: int, rounds: int) -> list[tuple[str, str]]:
    from llama_cpp import Llama

    cfg = EmbeddedLMConfig(temperature=0.0, max_tokens=max_tokens, n_ctx=2048)
    ours = build_client("assistant", cfg)  # raw runs the same file: the requantized default
    raw = Llama(model_path=str(ours.engine.model.path), n_ctx=2048, n_batch=cfg.n_batch, seed=0, verbose=False)
    totals = {"raw": [0, 0.0], "inftool": [0, 0.0]}
    for _ in range(rounds):
        for prompt in PROMPTS:
            messages = [{"role": "user", "content": prompt}]
            start = time.perf_counter()
            out = raw.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0, seed=0)
            totals["raw"][1] += time.perf_counter() - start
            totals["raw"][0] += out["usage"]["completion_tokens"]
            start = time.perf_counter()
            result = ours.complete(ChatRequest(messages=messages, max_tokens=max_tokens, temperature=0.0, seed=0))
            totals["inftool"][1] += time.perf_counter() - start
            totals["inftool"][0] += result.completion_tokens
    raw_tps = totals["raw"][0] / totals["raw"][1]
    ours_tps = totals["inftool"][0] / totals["inftool"][1]
    return [
        ("raw llama-cpp-python tokens/s", f"{raw_tps:.1f}  ({totals['raw'][0]} tokens)"),
        ("inftool embedded tokens/s", f"{ours_tps:.1f}  ({totals['inftool'][0]} tokens)"),
        ("ratio inftool / raw", f"{ours_tps / raw_tps:.3f}  (target >= 0.9)"),
    ]


def bench_openai(calls: int) -> list[tuple[str, str]]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "inftool.lm.loopback", "--port", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and "listening" in server.stdout.readline()
        rows = []
        for concurrency in (1, 16, 64):
            cfg = OpenAILMConfig(
                model="loopback", base_url=f"http://127.0.0.1:{port}/v1", concurrency=concurrency,
                retry=RetryConfig(max_attempts=1, timeout_s=30),
            )  # fmt: skip
            client = build_client("assistant", cfg)
            request = ChatRequest(messages=[{"role": "user", "content": "ping"}], max_tokens=8)

            async def run(client=client, request=request, concurrency=concurrency) -> float:
                gate = asyncio.Semaphore(concurrency)

                async def one() -> None:
                    async with gate:
                        await client.acomplete(request)

                await asyncio.gather(*(one() for _ in range(50)))  # warm-up: connections open
                start = time.perf_counter()
                await asyncio.gather(*(one() for _ in range(calls)))
                return time.perf_counter() - start

            seconds = asyncio.run(run())
            target = "  (target >= 500)" if concurrency == 64 else ""
            rows.append((f"openai backend calls/s @ concurrency {concurrency}", f"{calls / seconds:,.0f}{target}"))
            assert client.stats.failures == 0
            client.close()
        return rows
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["embedded", "openai", "all"], default="all")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    rows = []
    if args.part in ("embedded", "all"):
        rows += bench_embedded(args.max_tokens, args.rounds)
    if args.part in ("openai", "all"):
        rows += bench_openai(args.calls)
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))


if __name__ == "__main__":
    main()
