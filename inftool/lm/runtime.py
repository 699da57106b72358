"""One event loop, in a background thread, that runs every LM call of the process.

Callers on any thread or event loop (DSPy's sync `forward`, async `aforward`, a thread pool)
hand their call to this loop, so per-endpoint semaphores and HTTP connection pools live on
exactly one loop. Synchronous engines (llama.cpp, transformers) run in worker threads.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import threading
import time
import weakref
from collections.abc import Coroutine
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from typing import Any, Protocol, TypeVar

from inftool.lm.records import ChatRequest, ChatResult, LMCallError

T = TypeVar("T")

# Per-episode token accounting: set by the rollout around one episode, added to by every call
# made from that episode's task (the caller's context, not the LM loop's).
episode_usage: contextvars.ContextVar[dict[str, dict[str, int]] | None] = contextvars.ContextVar(
    "episode_usage", default=None
)


def _count(role: str, result: ChatResult) -> None:
    usage = episode_usage.get()
    if usage is not None:
        entry = usage.setdefault(role, {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0})
        entry["calls"] += 1
        entry["prompt_tokens"] += result.prompt_tokens
        entry["completion_tokens"] += result.completion_tokens


class _Runtime:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="inftool-lm", daemon=True)
        self.thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            raise RuntimeError("blocking LM call from inside the LM loop; use `await` instead")
        return self.submit(coro).result()

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        if asyncio.get_running_loop() is self.loop:  # a caller on this loop (the rollout's episodes) awaits directly
            return await coro
        return await asyncio.wrap_future(self.submit(coro))


_RUNTIME: _Runtime | None = None
_OPEN_CLIENTS: weakref.WeakSet[RoleClient] = weakref.WeakSet()
_RUNTIME_LOCK = threading.Lock()


def runtime() -> _Runtime:
    global _RUNTIME
    with _RUNTIME_LOCK:
        if _RUNTIME is None:
            _RUNTIME = _Runtime()
        return _RUNTIME


class SyncEngine(Protocol):
    name: str

    def where(self) -> str: ...
    def complete(self, request: ChatRequest) -> ChatResult: ...


class AsyncEngine(Protocol):
    name: str
    retries: int

    def where(self) -> str: ...
    async def complete(self, request: ChatRequest) -> ChatResult: ...


@dataclass
class RoleStats:
    calls: int = 0
    failures: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0  # as callers saw it (queueing included)
    max_latency_s: float = 0.0
    engine_s: float = 0.0  # inside the backend only (what the model itself took)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RoleClient:
    """The LM of one agent role: a backend engine plus that role's accounting."""

    def __init__(self, role: str, engine: SyncEngine | AsyncEngine) -> None:
        self.role, self.engine = role, engine
        self.stats = RoleStats()
        self._is_async = asyncio.iscoroutinefunction(engine.complete)
        _OPEN_CLIENTS.add(self)

    def close(self) -> None:
        """Close the engine's connections (HTTP sessions live on the LM loop)."""
        aclose = getattr(self.engine, "aclose", None)
        if aclose is not None and _RUNTIME is not None and _RUNTIME.loop.is_running():
            _RUNTIME.submit(aclose()).result(5)

    async def _complete(self, request: ChatRequest) -> ChatResult:
        start = time.perf_counter()
        try:
            if self._is_async:
                result = await self.engine.complete(request)  # type: ignore[misc]
            else:
                result = await asyncio.get_running_loop().run_in_executor(None, self.engine.complete, request)
        except LMCallError:
            self.stats.failures += 1
            raise
        except Exception as exc:  # a backend bug or a model crash must not kill the caller
            self.stats.failures += 1
            raise LMCallError(self.role, self.engine.where(), f"{type(exc).__name__}: {exc}") from exc
        finally:
            self.stats.calls += 1
            self.stats.retries = getattr(self.engine, "retries", 0)
            elapsed = time.perf_counter() - start
            self.stats.latency_s += elapsed
            self.stats.max_latency_s = max(self.stats.max_latency_s, elapsed)
        self.stats.prompt_tokens += result.prompt_tokens
        self.stats.completion_tokens += result.completion_tokens
        self.stats.engine_s += result.latency_s
        return result

    def complete(self, request: ChatRequest) -> ChatResult:
        """Blocking call from any thread that is not the LM loop."""
        result = runtime().run(self._complete(request))
        _count(self.role, result)
        return result

    async def acomplete(self, request: ChatRequest) -> ChatResult:
        """Awaitable from any event loop."""
        result = await runtime().arun(self._complete(request))
        _count(self.role, result)
        return result


@atexit.register
def _close_clients() -> None:
    for client in list(_OPEN_CLIENTS):
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            client.close()
