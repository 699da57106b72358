"""engine=ray vs engine=local: one synthesized round's wall time when every LM call waits on a
slow endpoint (the loopback server with a delay stands for a vLLM fleet's latency).

    python bench/sharded.py                        # 48 episodes, 0.05 s per LM call, 2 per worker
    python bench/sharded.py --episodes 96 --delay 0.1 --workers 1,2,4

Rows: the local engine at `synthesis.concurrency`, then Ray with 1..N workers, each at the same
concurrency (N workers = N x the episodes in flight). The time is the whole round as
`synthesize_round` runs it (workers started, episodes, gating and storing in the driver,
summary and exports); Ray's own start-up is outside it. Same machine, same run: compare the
ratios, not the seconds across machines.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import ray

from inftool.config import validate
from inftool.lm import build_lms
from inftool.lm.loopback import LoopbackServer
from inftool.loop import RoundInputs, ingest, round_scenarios, synthesize_round
from inftool.recipes import compose_config


def round_seconds(url: str, episodes: int, concurrency: int, engine: list[str], out: Path) -> tuple[float, int]:
    roles = [o for r in ("user", "assistant", "tools", "judge")
             for o in (f"lm@lm.{r}=openai", f"lm.{r}.model=loop", f"lm.{r}.base_url={url}")]  # fmt: skip
    config = validate(compose_config([*roles, f"synthesis.episodes={episodes}",
                                      f"synthesis.concurrency={concurrency}", *engine]))  # fmt: skip
    inputs = RoundInputs(config.lm.assistant, config.trainer, config.scenarios.weights)
    scenarios = round_scenarios(config, ingest(config, []), 0, inputs)
    lms = build_lms(config.lm)
    start = time.perf_counter()
    store = synthesize_round(config, scenarios, lms, out)
    return time.perf_counter() - start, len(store.done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=48)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds each LM call waits")
    parser.add_argument("--concurrency", type=int, default=2, help="episodes in flight per engine / worker")
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    server = LoopbackServer(schema_replies=True, record=False, delay=args.delay).start()
    ray.init(include_dashboard=False, log_to_driver=False, object_store_memory=200 * 1024**2)
    rows = [("local", ["engine=local"])]
    rows += [(f"ray x{n}", ["engine=ray", f"engine.workers={n}"]) for n in map(int, args.workers.split(","))]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, engine in rows:
            seconds, stored = round_seconds(server.url, args.episodes, args.concurrency, engine, Path(tmp) / name)
            results.append((name, seconds, stored))
    ray.shutdown()
    server.stop()
    base = results[0][1]
    print(f"\n{args.episodes} episodes, {args.delay} s per LM call, concurrency {args.concurrency} per engine/worker")
    print(f"{'engine':<10}{'stored':>8}{'wall s':>9}{'episodes/s':>12}{'vs local':>10}")
    for name, seconds, stored in results:
        print(f"{name:<10}{stored:>8}{seconds:>9.1f}{stored / seconds:>12.2f}{base / seconds:>9.2f}x")


if __name__ == "__main__":
    main()
