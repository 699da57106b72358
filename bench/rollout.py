"""Rollout engine throughput and overhead.

    python bench/rollout.py                  # both parts
    python bench/rollout.py --part loopback|embedded

1. episodes/s with every role on an instant loopback OpenAI-compatible endpoint (schema-valid
   replies), at concurrency 64: what the framework itself costs per episode (target >= 300/s
   on 2 cores). The anchor: the same request bodies (recorded from an identical earlier run)
   replayed by a bare `aiohttp.ClientSession` at the same concurrency against the same server;
   LM calls/s framework / bare is the share of the endpoint's rate the framework reaches
   (target >= 0.5). The server's CPU share during the replay says whether it, not the bare
   client, was the limit.
2. with the embedded model: wall time / summed LM (engine) time (target <= 1.03): the engine
   around a real model must add almost nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from inftool.agents import Assistant, ToolServer, UserSimulator
from inftool.config import EmbeddedLMConfig, OpenAILMConfig, RetryConfig
from inftool.lm import ChatRequest, RoleLM, build_client, configure_cache
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


def record_bodies(clients: dict) -> list[dict]:
    """Every request body the framework's clients build, as sent (for the bare replay). A shallow
    copy is enough: an episode appends new messages to its list, never edits one it sent."""
    bodies: list[dict] = []
    for client in clients.values():
        build = client.engine.body

        def body(request: ChatRequest, build: Callable = build) -> dict:
            out = build(request)
            bodies.append({**out, "messages": list(out["messages"])})
            return out

        client.engine.body = body
    return bodies


def cpu_s(pid: int) -> float:
    """A process's user + system CPU seconds so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bare_replay(url: str, bodies: list[dict], concurrency: int) -> float:
    """The same requests from a bare aiohttp client: encode, post, read, decode; seconds taken."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        todo = iter(bodies)

        async def worker() -> None:
            for body in todo:  # one shared iterator: each body is sent once
                async with session.post(url, data=json.dumps(body).encode(), headers=JSON) as response:
                    json.loads(await response.read())

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


JSON = {"Content-Type": "application/json"}


def bench_loopback(episodes: int, concurrency: int) -> list[tuple[str, str]]:
    port = free_port()
    cmd = [sys.executable, "-m", "inftool.lm.loopback", "--port", str(port), "--schema-replies"]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and "listening" in server.stdout.readline()
        retry = RetryConfig(max_attempts=1, timeout_s=60)
        url = f"http://127.0.0.1:{port}/v1"
        cfg = OpenAILMConfig(model="loopback", base_url=url, concurrency=concurrency, retry=retry)
        clients = {role: build_client(role, cfg) for role in ("user", "assistant", "tools")}
        agents = agents_with(clients)
        out = Path(tempfile.mkdtemp()) / "t.jsonl"
        run_synthesis(scenarios(64, seed=99), agents, Limits(3, 4), concurrency, out, progress=False)  # warm-up
        work = scenarios(episodes)
        bodies = record_bodies(clients)
        before = sum(c.stats.calls for c in clients.values())
        cpu, start = time.process_time(), time.perf_counter()
        trajs = run_synthesis(work, agents, Limits(3, 4), concurrency, out, progress=False)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        failed = sum(t.status == "failed" for t in trajs)
        calls = sum(c.stats.calls for c in clients.values()) - before
        with asyncio.Runner() as runner:  # an asyncio loop, as the framework's
            runner.run(bare_replay(f"{url}/chat/completions", bodies[:256], concurrency))  # warm-up
            bare_cpu, server_cpu = time.process_time(), cpu_s(server.pid)
            bare_s = runner.run(bare_replay(f"{url}/chat/completions", bodies, concurrency))
        bare_cpu, server_cpu = time.process_time() - bare_cpu, cpu_s(server.pid) - server_cpu
        rate, bare_rate = calls / seconds, len(bodies) / bare_s
        return [
            (f"loopback: episodes/s @ concurrency {concurrency}", f"{episodes / seconds:,.1f}  (target >= 300)"),
            ("loopback: episodes / failed", f"{episodes} / {failed}"),
            ("loopback: LM calls timed run / replayed bare", f"{calls:,} / {len(bodies):,}"),
            ("loopback: LM calls/s framework", f"{rate:,.0f}"),
            ("loopback: LM calls/s bare aiohttp", f"{bare_rate:,.0f}"),
            ("loopback: ratio framework / bare", f"{rate / bare_rate:.2f}  (target >= 0.5)"),
            (
                "loopback: client CPU ms per LM call framework / bare",
                f"{1e3 * cpu / calls:.2f} / {1e3 * bare_cpu / len(bodies):.2f}",
            ),
            (
                "loopback: server CPU share of wall, bare replay",
                f"{server_cpu / bare_s:.0%}  (~100%: the server is the limit)",
            ),
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
