"""engine=ray: the round's scenarios sharded over Ray workers; gating and the store stay here.

The driver (this process) splits the scenarios round-robin into `engine.workers` shards, so which
ids a round has comes from the seeded sampler alone: 1 or N workers, the same ids. Each worker is
a Ray actor that checks the config it receives against the trust model before it builds anything,
builds its own role LMs and agents from it, and runs the async episode engine over its shard.
Finished trajectories come back in batches, as JSON validated here, and are gated and stored one
by one as they arrive: one store, one manifest; a dead worker loses only its unfinished episodes,
which a fresh worker (`engine.retries`) or a rerun (by scenario id) synthesizes again.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import queue
import socket
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from pydantic import SecretStr
from tqdm import tqdm

from inftool.config import InftoolConfig, LMRolesConfig, OpenAILMConfig, RayEngineConfig, validate
from inftool.errors import UserError
from inftool.rollout import Limits, Trajectory, run_synthesis
from inftool.scenarios import Scenario

AGENT_ROLES = ("user", "assistant", "tools")  # the judge gates in the driver
INSTALL = "pip install 'inftool[ray]'"
WAIT_S = 1.0  # how long a worker's `next` waits for its first finished episode


def ray_module() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise UserError(f"engine=ray needs Ray, which is not installed: {INSTALL} (or use engine=local)") from None
    return ray


def check_address(address: str, timeout_s: float = 5.0) -> None:
    """Ray waits minutes for a cluster that is not there; a TCP connect says it at once."""
    if address in ("", "auto", "local"):
        return
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise UserError(f"engine=ray: RAY_ADDRESS={address!r} is not HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        raise UserError(
            f"engine=ray: nothing answers at RAY_ADDRESS={address} ({exc.strerror or exc}); start the cluster "
            "(ray start --head) or unset RAY_ADDRESS for a local Ray runtime"
        ) from None


def connect() -> ModuleType:
    """Ray, initialized once per process: the cluster at $RAY_ADDRESS, else a local runtime."""
    ray = ray_module()
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS", "").strip()
        check_address(address)
        try:
            ray.init(**({} if address else {"include_dashboard": False}))  # reads RAY_ADDRESS itself
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"RAY_ADDRESS={address}" if address else "a local runtime"
            raise UserError(f"engine=ray: cannot start Ray ({where}): {str(exc).splitlines()[0]}") from None
    return ray


def worker_lms(lm: LMRolesConfig, index: int) -> LMRolesConfig:
    """The role LMs worker `index` builds: each fleet's URL list starts at URL `index` mod n (the
    client round-robins from there), and a key the driver holds in `api_key_env` travels with it
    (a key set in the worker's own environment still wins)."""
    roles = {}
    for role in ("user", "assistant", "tools", "judge"):
        cfg = getattr(lm, role)
        if isinstance(cfg, OpenAILMConfig):
            update: dict[str, Any] = {}
            if isinstance(cfg.base_url, list) and cfg.base_url:
                k = index % len(cfg.base_url)
                update["base_url"] = [*cfg.base_url[k:], *cfg.base_url[:k]]
            if cfg.api_key_env and os.environ.get(cfg.api_key_env):
                update["api_key"] = SecretStr(os.environ[cfg.api_key_env])
            cfg = cfg.model_copy(update=update)
        roles[role] = cfg
    return lm.model_copy(update=roles)


@dataclass(frozen=True)
class WorkerJob:
    """What a worker receives: validated data only (no recipe text, no objects to build)."""

    config: dict[str, Any]  # InftoolConfig.model_dump(by_alias=True): checked again on the worker
    allowed: list[str]  # the driver's extra allowed targets (command line, the user's own file)
    programs: dict[str, str]  # role -> saved DSPy program (JSON text), since the worker may not see the file
    scenarios: list[str]  # Scenario JSON


def worker_job(config: InftoolConfig, index: int, scenarios: Sequence[Scenario]) -> WorkerJob:
    from inftool.safety import user_allowed_targets

    programs = {role: Path(p).read_text(encoding="utf-8") for role in AGENT_ROLES
                if (p := getattr(config.agents, role).program)}  # fmt: skip
    data = config.model_copy(update={"lm": worker_lms(config.lm, index)}).model_dump(by_alias=True)
    allowed = [*config.safety.allow_targets, *user_allowed_targets()]
    return WorkerJob(data, allowed, programs, [s.model_dump_json() for s in scenarios])


def worker_config(job: WorkerJob, program_dir: Path) -> InftoolConfig:
    """The trust model on the worker: every `_target_` checked before validation imports anything."""
    from inftool.safety import check_targets

    check_targets(job.config, job.allowed)
    data = {**job.config, "agents": {role: dict(node) for role, node in job.config["agents"].items()}}
    for role, text in job.programs.items():
        path = program_dir / f"{role}.json"
        path.write_text(text, encoding="utf-8")
        data["agents"][role]["program"] = str(path)
    return validate(data)


class Batch(NamedTuple):
    lines: list[str]  # finished trajectories, as JSON
    done: bool  # the shard's last episode is in `lines` (or it stopped on `error`)
    error: str | None = None


class ShardWorker:
    """A Ray actor: one shard's episodes on the async engine, finished ones queued for the driver."""

    def __init__(self) -> None:
        self._finished: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._error: str | None = None
        self._programs = tempfile.TemporaryDirectory(prefix="inftool-programs-")

    def start(self, job: WorkerJob) -> int:
        import dspy

        from inftool.lm import HISTORY_PER_OWNER, MEMORY_CACHE_ENTRIES, build_lms
        from inftool.loop.build import build_agents
        from inftool.loop.toolsets import external_server

        config = worker_config(job, Path(self._programs.name))
        todo = [Scenario.model_validate_json(line) for line in job.scenarios]
        # as configure_cache, bounded, but in memory only: the run dir is the driver's
        dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=True, memory_max_entries=MEMORY_CACHE_ENTRIES)
        dspy.configure(max_history_size=HISTORY_PER_OWNER)
        agents = build_agents(config, build_lms(config.lm, roles=AGENT_ROLES))
        limits = Limits.of(config.synthesis)
        external = {name: s for name, cfg in config.toolsets.items() if (s := external_server(cfg)) is not None}
        args = (todo, agents, limits, config.synthesis.concurrency)
        threading.Thread(target=self._run, args=(*args, external), daemon=True, name="inftool-shard").start()
        return len(todo)

    def _run(self, *args: Any) -> None:
        try:
            run_synthesis(*args[:4], external=args[4], progress=False, on_done=self._emit, keep=False)
        except BaseException as exc:  # reported to the driver, which decides
            self._error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        finally:
            self._finished.put(None)

    def _emit(self, traj: Trajectory) -> None:
        self._finished.put(traj.model_dump_json())

    def next(self, most: int, wait_s: float = WAIT_S) -> Batch:
        """Up to `most` finished trajectories, waiting up to `wait_s` for the first."""
        lines: list[str] = []
        try:
            item = self._finished.get(timeout=wait_s)
            while item is not None:
                lines.append(item)
                if len(lines) >= most:
                    return Batch(lines, False)
                item = self._finished.get_nowait()
        except queue.Empty:
            return Batch(lines, False)
        return Batch(lines, True, self._error)


@functools.cache
def remote_worker() -> Any:
    return ray_module().remote(ShardWorker)


def split(scenarios: Sequence[Scenario], workers: int) -> list[list[Scenario]]:
    """Round-robin in the sampler's order: the shards partition the ids whatever `workers` is."""
    return [list(scenarios[i::workers]) for i in range(min(workers, len(scenarios)))]


@dataclass
class Shard:
    index: int
    scenarios: list[Scenario]
    received: set[str] = field(default_factory=set)
    restarts: int = 0
    actor: Any = None

    def __post_init__(self) -> None:
        self.ids = {s.id for s in self.scenarios}

    def left(self) -> list[Scenario]:
        return [s for s in self.scenarios if s.id not in self.received]


class ShardedRound:
    """The driver side of one round: workers started, their batches gated and stored as they come."""

    def __init__(self, config: InftoolConfig, on_done: Callable[[Trajectory], str | None]) -> None:
        assert isinstance(config.engine, RayEngineConfig)
        self.config, self.engine, self.on_done = config, config.engine, on_done
        self.ray = connect()  # before the progress bar: an error here is the only line
        self.run_id = uuid.uuid4().hex[:8]
        self.pending: dict[Any, tuple[Shard, str]] = {}  # ref -> (shard, "start" | "next")
        self.failures: list[tuple[Shard, str]] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self.kept: list[Trajectory] = []

    def launch(self, shard: Shard) -> None:
        """A fresh worker for what the shard has left (named, so `ray list actors` shows whose it is)."""
        name = f"inftool-shard-{self.run_id}-{shard.index}-{shard.restarts}"
        options = {"name": name, "num_cpus": self.engine.cpus_per_worker, "max_restarts": 0}
        shard.actor = remote_worker().options(**options).remote()
        self.pending[shard.actor.start.remote(worker_job(self.config, shard.index, shard.left()))] = (shard, "start")

    def ask(self, shard: Shard) -> None:
        self.pending[shard.actor.next.remote(self.engine.batch)] = (shard, "next")

    def run(self, scenarios: Sequence[Scenario], keep: bool, progress: bool) -> list[Trajectory]:
        shards = [Shard(i, part) for i, part in enumerate(split(scenarios, self.engine.workers))]
        self.bar = tqdm(total=len(scenarios), unit="episode", desc="synthesize (ray)", disable=not progress,
                        dynamic_ncols=True)  # fmt: skip
        try:
            for shard in shards:
                self.launch(shard)
            while self.pending:
                ready, _ = self.ray.wait(list(self.pending), num_returns=1)
                self.receive(ready[0], keep)
        finally:
            self.bar.close()
            for shard in shards:  # Ctrl-C or a failing gate: no worker keeps running
                self.stop(shard)
        if self.failures:
            shard, reason = self.failures[0]
            lost = sum(len(s.left()) for s, _ in self.failures)
            raise UserError(
                f"engine=ray: {len(self.failures)} worker(s) stopped (worker {shard.index}: {reason}); {lost} of "
                f"{len(scenarios)} episodes are not stored: rerun the same command to resume them"
            )
        return self.kept

    def receive(self, ref: Any, keep: bool) -> None:
        shard, call = self.pending.pop(ref)
        try:
            answer = self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as exc:  # `start` refused the config, or a worker bug
            if isinstance(exc.cause, UserError):
                raise UserError(f"engine=ray worker {shard.index}: {exc.cause}") from None
            return self.lost(shard, f"{type(exc.cause).__name__}: {exc.cause}".splitlines()[0])
        except self.ray.exceptions.RayActorError as exc:  # killed, out of memory, its node gone
            return self.lost(shard, f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        if call == "start":
            return self.ask(shard)
        batch: Batch = answer
        for line in batch.lines:
            self.store(shard, Trajectory.model_validate_json(line), keep)
        if batch.error:
            self.lost(shard, batch.error)
        elif not batch.done:
            self.ask(shard)
        else:
            self.stop(shard)

    def stop(self, shard: Shard) -> None:
        if shard.actor is not None:
            with contextlib.suppress(Exception):  # already gone
                self.ray.kill(shard.actor)
            shard.actor = None

    def store(self, shard: Shard, traj: Trajectory, keep: bool) -> None:
        if traj.id in shard.received or traj.id not in shard.ids:  # only the shard's own ids, each once
            return
        shard.received.add(traj.id)
        self.counts["failed"] += traj.status == "failed"
        if label := self.on_done(traj):
            self.counts[label] += 1
        if keep:
            self.kept.append(traj)
        self.bar.set_postfix(dict(self.counts))
        self.bar.update()

    def lost(self, shard: Shard, reason: str) -> None:
        """A fresh worker for the shard's unfinished episodes while `engine.retries` allow; else recorded."""
        self.stop(shard)
        left = len(shard.left())
        if not left:
            return
        if shard.restarts < self.engine.retries:
            shard.restarts += 1
            print(f"engine=ray: worker {shard.index} stopped ({reason}); {left} episodes go to a fresh worker "
                  f"(retry {shard.restarts} of {self.engine.retries})")  # fmt: skip
            self.launch(shard)
        else:
            self.failures.append((shard, reason))


def run_sharded(config: InftoolConfig, scenarios: Sequence[Scenario], on_done: Callable[[Trajectory], str | None],
                progress: bool = True, keep: bool = True) -> list[Trajectory]:  # fmt: skip
    """`run_synthesis` over Ray workers: each finished trajectory is handed to `on_done` here (the
    driver) as it arrives, and counted in the bar by the label it returns. A shard whose workers
    all stopped is a UserError once the others are done: a rerun resumes by scenario id."""
    if not scenarios:
        return []
    return ShardedRound(config, on_done).run(scenarios, keep, progress)
