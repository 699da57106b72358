"""Streaming: a whole synthesis round, every role on the loopback endpoint, with flat memory.

    python bench/stream.py [--episodes 100000] [--concurrency 64] [--strict]

The real round in this process (compose the config -> ingest -> scenarios -> `synthesize_step`:
episodes, gates, store, then summary, exports and the marker's record streamed from the store)
against `python -m inftool.lm.loopback --schema-replies` in a child process. The consistency gate
is off unless --strict (the loopback policy never says the plan's values), so accepted episodes
reach the dedup gate and every export. Prints episodes done, wall, the RSS before the round, peak
RSS (VmHWM) and RSS growth (peak - before; target <= 1 GB at 100,000 episodes), RSS sampled over
the run, and the endpoint's own peak RSS (a child, reported apart: it is not the framework).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from inftool.config import validate
from inftool.lm import build_lms, configure_cache
from inftool.lm.loopback import free_port
from inftool.loop import RoundInputs, ingest, round_scenarios, synthesis_record, synthesize_round
from inftool.recipes import compose_config

MB = 1024 * 1024


def status_kb(pid: int | str, field: str) -> int:
    """A VmRSS/VmHWM-style field of /proc/<pid>/status, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """RSS of this process every `every` seconds (the timeline printed at the end)."""

    def __init__(self, every: float) -> None:
        super().__init__(daemon=True)
        self.every, self.samples, self.stop = every, [], threading.Event()
        self.start_time = time.perf_counter()

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.samples.append((time.perf_counter() - self.start_time, status_kb("self", "VmRSS") / 1024))


def overrides(url: str, episodes: int, concurrency: int, strict: bool) -> list[str]:
    roles = [o for r in ("user", "assistant", "tools", "judge")
             for o in (f"lm@lm.{r}=openai", f"lm.{r}.model=loop", f"lm.{r}.base_url={url}",
                       f"lm.{r}.concurrency={concurrency}")]  # fmt: skip
    lenient = [] if strict else ["gates.chain.4.enabled=false"]
    return [*roles, f"synthesis.episodes={episodes}", f"synthesis.concurrency={concurrency}",
            "data.exports=[openai,sharegpt,parquet,openrlhf,bfcl]", *lenient]  # fmt: skip


def run(episodes: int, concurrency: int, strict: bool, run_dir: Path) -> list[tuple[str, str]]:
    port = free_port()
    cmd = [sys.executable, "-m", "inftool.lm.loopback", "--port", str(port), "--schema-replies"]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and "listening" in server.stdout.readline()
        config = validate(compose_config(overrides(f"http://127.0.0.1:{port}/v1", episodes, concurrency, strict)))
        configure_cache(run_dir)
        toolsets = ingest(config, [])
        inputs = RoundInputs(config.lm.assistant, config.trainer, config.scenarios.weights)
        scenarios = round_scenarios(config, toolsets, 0, inputs)
        lms = build_lms(config.lm)
        before = status_kb("self", "VmRSS") / 1024
        sampler = Sampler(max(1.0, episodes / 2000))
        sampler.start()
        start = time.perf_counter()
        with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):  # the bar: a line per episode
            store = synthesize_round(config, scenarios, lms, run_dir / "round_0")
        record = synthesis_record(store)  # the marker's record: a second pass over the store
        wall = time.perf_counter() - start
        sampler.stop.set()
        peak = status_kb("self", "VmHWM") / 1024
        endpoint = status_kb(server.pid, "VmHWM") / 1024
        for lm in lms.values():  # here, not by the exit hook: the 100k run printed 'Unclosed client session' at exit
            lm.client.close()
    finally:
        server.terminate()
        server.wait()
    timeline = "  ".join(f"{t:.0f}s:{rss:.0f}" for t, rss in sampler.samples[:: max(1, len(sampler.samples) // 10)])
    growth = peak - before
    return [
        ("episodes done / accepted", f"{record['episodes']:,} / {record['accepted']:,}"),
        (
            "wall s (round: synthesis, summary, exports, record)",
            f"{wall:.1f}  ({record['episodes'] / wall:.1f} episodes/s)",
        ),
        ("RSS before the round MB", f"{before:.0f}"),
        ("peak RSS (VmHWM) MB", f"{peak:.0f}"),
        ("RSS growth MB", f"{growth:.0f}  (target <= 1024 at 100,000 episodes; ratio {growth / 1024:.2f}x)"),
        ("RSS timeline s:MB", timeline),
        ("endpoint child peak RSS MB", f"{endpoint:.0f}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--strict", action="store_true", help="keep the consistency gate on")
    parser.add_argument("--run-dir", type=Path, default=None, help="default: a fresh temporary folder")
    args = parser.parse_args()
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="stream-"))
    rows = run(args.episodes, args.concurrency, args.strict, run_dir)
    width = max(len(k) for k, _ in rows)
    print(f"run dir: {run_dir}")
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))


if __name__ == "__main__":
    main()
