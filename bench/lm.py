"""LM layer overhead: the embedded backend vs raw llama-cpp-python, and the openai backend's
throughput against an instant loopback endpoint.

    python bench/lm.py                       # both parts
    python bench/lm.py --part embedded|openai
    python bench/lm.py --part build --wheels PORTABLE.whl NATIVE.whl   # llama.cpp builds side by side
    python bench/lm.py --part threads        # decoding on every core vs llama-cpp-python's default

Targets (issue 3): embedded tokens/s >= 0.9 x raw llama-cpp-python on the same prompts;
openai backend >= 500 calls/s at concurrency 64 on 2 cores. `--part build` (issue 14) times raw
llama-cpp-python from each wheel (installed into a temporary folder, run in its own process,
rounds alternating so machine load hits both alike) and prints each build's prompt and decode
tokens/s against the last wheel given (the anchor: a native build). `--part threads` times raw
llama-cpp-python decoding with its own default thread count (half the cores: the anchor) and with
every core (the embedded backend's default since issue 13), rounds alternating.
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
from inftool.lm.embedded import usable_cores
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
    threads = usable_cores()  # as the embedded backend runs it
    raw = Llama(model_path=str(ours.engine.model.path), n_ctx=2048, n_batch=cfg.n_batch, seed=0, verbose=False,
                n_threads=threads, n_threads_batch=threads)  # fmt: skip
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


BUILD_PROBE = r"""
import json, sys, time
import llama_cpp
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=2048, n_batch=512, seed=0, verbose=False)
prompt = llm.tokenize(("Explain what an API is, in detail, with examples. " * 30).encode())[:400]
llm.eval(prompt[:8]); llm.reset()  # warm-up
start = time.perf_counter(); llm.eval(prompt); prefill = time.perf_counter() - start
start = time.perf_counter()
for _ in range(96):
    llm.eval([llm.sample(temp=0.0)])
decode = time.perf_counter() - start
info = llama_cpp.llama_print_system_info().decode()
print(json.dumps({"prefill_tps": len(prompt) / prefill, "decode_tps": 96 / decode, "info": info}))
"""


def bench_builds(wheels: list[str], rounds: int) -> list[tuple[str, str]]:
    import json
    import tempfile
    from pathlib import Path

    from inftool.lm.cpu_fit import build_features

    model = str(build_client("assistant", EmbeddedLMConfig()).engine.model.path)  # the requantized default
    with tempfile.TemporaryDirectory() as tmp:
        sites = []
        for index, wheel in enumerate(wheels):
            site = Path(tmp) / f"build{index}"
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), wheel],
                           check=True)  # fmt: skip
            sites.append(site)
        runs: dict[int, list[dict]] = {i: [] for i in range(len(wheels))}
        for _ in range(rounds):
            for index, site in enumerate(sites):
                env = {**os.environ, "PYTHONPATH": f"{site}:{os.environ.get('PYTHONPATH', '')}"}
                out = subprocess.run([sys.executable, "-c", BUILD_PROBE, model], env=env, check=True,
                                     capture_output=True, text=True).stdout  # fmt: skip
                runs[index].append(json.loads(out.strip().splitlines()[-1]))
    mean = {i: {k: sum(r[k] for r in rs) / len(rs) for k in ("prefill_tps", "decode_tps")} for i, rs in runs.items()}
    anchor = mean[len(wheels) - 1]
    rows = []
    for index, wheel in enumerate(wheels):
        features = " ".join(sorted(f for f in build_features(runs[index][0]["info"]) if f.startswith(("AVX", "AMX"))))
        rows.append((f"build {index}: {Path(wheel).parent.name}/{Path(wheel).name}", f"[{features}]"))
        for key, label in (("prefill_tps", "prompt tokens/s"), ("decode_tps", "decode tokens/s")):
            ratio = mean[index][key] / anchor[key]
            rows.append((f"  {label}", f"{mean[index][key]:.1f}  ({ratio:.3f} x build {len(wheels) - 1})"))
    return rows


def bench_threads(rounds: int, max_tokens: int) -> list[tuple[str, str]]:
    from llama_cpp import Llama

    model = str(build_client("assistant", EmbeddedLMConfig()).engine.model.path)
    cores = usable_cores()
    llamas = {"default": Llama(model_path=model, n_ctx=2048, seed=0, verbose=False),
              "all": Llama(model_path=model, n_ctx=2048, seed=0, verbose=False, n_threads=cores,
                           n_threads_batch=cores)}  # fmt: skip
    seconds = {name: 0.0 for name in llamas}
    prompt = llamas["all"].tokenize(PROMPTS[0].encode())
    for _ in range(rounds):
        for name, llm in llamas.items():
            llm.reset()
            llm.eval(prompt)
            start = time.perf_counter()
            for _ in range(max_tokens):  # greedy decoding, token by token, as a constrained call decodes
                llm.eval([llm.sample(temp=0.0)])
            seconds[name] += time.perf_counter() - start
    tps = {name: rounds * max_tokens / s for name, s in seconds.items()}
    threads = {"default": llamas["default"].n_threads, "all": cores}
    return [(f"decode tokens/s, {threads[name]} thread(s) ({name})", f"{tps[name]:.1f}") for name in llamas] + [
        ("ratio every core / default", f"{tps['all'] / tps['default']:.2f}")
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
    parser.add_argument("--part", choices=["embedded", "openai", "build", "threads", "all"], default="all")
    parser.add_argument("--wheels", nargs="+", default=[], help="--part build: llama-cpp-python wheels, anchor last")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    rows = []
    if args.part == "build":
        rows += bench_builds(args.wheels, args.rounds)
    if args.part == "threads":
        rows += bench_threads(args.rounds * 3, args.max_tokens * 2)
    if args.part in ("embedded", "all"):
        rows += bench_embedded(args.max_tokens, args.rounds)
    if args.part in ("openai", "all"):
        rows += bench_openai(args.calls)
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))


if __name__ == "__main__":
    main()
