"""Rollout engine throughput and overhead.

    python bench/rollout.py                  # both parts
    python bench/rollout.py --part loopback|embedded

1. episodes/s with every role on an instant loopback OpenAI-compatible endpoint (schema-valid
   replies), at concurrency 64: what the framework itself costs per episode (target >= 100/s
   on 2 cores).
2. with the embedded model: wall time / summed LM (engine) time (target <= 1.03): the engine
   around a real model must add almost nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from inftool.agents import Assistant, ToolServer, UserSimulator
from inftool.config import EmbeddedLMConfig, OpenAILMConfig, RetryConfig
from inftool.lm import RoleLM, build_client, configure_cache
from inftool.lm.loopback import free_port
from inftool.rollout import Agents, Limits, run_synthesis
from inftool.scenarios import KINDS, ScenarioSampler
from inftool.specs import load_toolset

SPECS = Path(__file__).resolve().parents[1] / "recipes" / "specs"


def scenarios(n: int, seed: int = 0):
    files = {"travel": "travel.openapi.yaml", "finance": "finance.openai.json", "workspace": "workspace.mcp.json"}
    toolsets = [load_toolset(name, SPECS / f) for name, f in files.items()]
    return ScenarioSampler(toolsets, seed=seed).sample(n, dict.fromkeys(KINDS, 1.0))


def agents_with(clients: dict) -> Agents:
    built = {"user": UserSimulator(), "assistant": Assistant(), "tools": ToolServer()}
    for role, agent in built.items():
        agent.set_lm(RoleLM(clients[role], temperature=0.0, max_tokens=128, cache=False))
    return Agents(**built, models={r: c.engine.name for r, c in clients.items()})


def bench_loopback(episodes: int, concurrency: int) -> list[tuple[str, str]]:
    port = free_port()
    cmd = [sys.executable, "-m", "inftool.lm.loopback", "--port", str(port), "--schema-replies"]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and "listening" in server.stdout.readline()
        retry = RetryConfig(max_attempts=1, timeout_s=60)
        cfg = OpenAILMConfig(
            model="loopback", base_url=f"http://127.0.0.1:{port}/v1", concurrency=concurrency, retry=retry
        )
        clients = {role: build_client(role, cfg) for role in ("user", "assistant", "tools")}
        agents = agents_with(clients)
        out = Path(tempfile.mkdtemp()) / "t.jsonl"
        run_synthesis(scenarios(64, seed=99), agents, Limits(3, 4), concurrency, out, progress=False)  # warm-up
        work = scenarios(episodes)
        start = time.perf_counter()
        trajs = run_synthesis(work, agents, Limits(3, 4), concurrency, out, progress=False)
        seconds = time.perf_counter() - start
        failed = sum(t.status == "failed" for t in trajs)
        calls = sum(c.stats.calls for c in clients.values())
        rate = episodes / seconds
        return [
            (
                f"loopback: episodes/s @ concurrency {concurrency}",
                f"{rate:,.1f}  (target >= 100; ratio {rate / 100:.2f}x)",
            ),
            ("loopback: episodes / failed / LM calls", f"{episodes} / {failed} / {calls:,}"),
        ]
    finally:
        server.terminate()
        server.wait()


def bench_embedded(episodes: int, concurrency: int) -> list[tuple[str, str]]:
    configure_cache(Path(tempfile.mkdtemp()))  # fresh: no answer comes from a cache
    cfg = EmbeddedLMConfig(temperature=0.7)
    clients = {role: build_client(role, cfg) for role in ("user", "assistant", "tools")}
    agents = agents_with(clients)
    out = Path(tempfile.mkdtemp()) / "t.jsonl"
    start = time.perf_counter()
    trajs = run_synthesis(scenarios(episodes, seed=1), agents, Limits(3, 4), concurrency, out, progress=False)
    wall = time.perf_counter() - start
    engine = sum(c.stats.engine_s for c in clients.values())  # one model: its calls never overlap
    return [
        ("embedded: episodes (completed)", f"{episodes} ({sum(t.status == 'completed' for t in trajs)})"),
        ("embedded: wall s / summed LM s", f"{wall:.1f} / {engine:.1f}"),
        ("embedded: overhead ratio wall / LM", f"{wall / engine:.3f}  (target <= 1.03)"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["loopback", "embedded", "all"], default="all")
    parser.add_argument("--episodes", type=int, default=640)
    parser.add_argument("--embedded-episodes", type=int, default=8)
    args = parser.parse_args()
    rows = []
    if args.part in ("loopback", "all"):
        rows += bench_loopback(args.episodes, 64)
    if args.part in ("embedded", "all"):
        rows += bench_embedded(args.embedded_episodes, 2)
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))


if __name__ == "__main__":
    main()
