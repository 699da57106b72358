"""The `openai` backend: any OpenAI-compatible chat server (vLLM, llama.cpp's server, OpenAI).

Requests spread round-robin over the configured base URLs; each URL has its own concurrency
limit. Timeouts, 5xx/429, dropped connections and unparseable bodies are retried with
exponential backoff and jitter; other 4xx fail at once. Tool calls come back from native
`tool_calls` or, for servers that answer inside `content`, are parsed out of the text.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import time
from typing import Any

import aiohttp
import httpx

from inftool.config import OpenAILMConfig
from inftool.errors import UserError
from inftool.lm.constrained import tools_system_prompt
from inftool.lm.records import ChatRequest, ChatResult, LMCallError, ToolCall
from inftool.lm.toolcalls import parse_arguments, parse_tool_calls
from inftool.redaction import redact_text, safe_url

JSON = {"Content-Type": "application/json"}
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class RetryableError(Exception):
    pass


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter in [0.5, 1.5) of the step."""
    return min(cap, base * 2**attempt) * (0.5 + random.random())


class OpenAICompatClient:
    def __init__(self, cfg: OpenAILMConfig, role: str) -> None:
        self.cfg, self.role = cfg, role
        self.urls = [u.rstrip("/") for u in ([cfg.base_url] if isinstance(cfg.base_url, str) else cfg.base_url)]
        if not self.urls:
            raise UserError(f"lm.{role}.base_url: give at least one URL")
        self._next_url = itertools.cycle(range(len(self.urls)))
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._session: aiohttp.ClientSession | None = None
        self.name = cfg.model
        self.retries = 0

    def where(self) -> str:
        return ", ".join(self.urls)

    def _headers(self) -> dict[str, str]:
        key = self.cfg.api_key.get_secret_value() if self.cfg.api_key else None
        if self.cfg.api_key_env:
            key = os.environ.get(self.cfg.api_key_env) or key
            if key is None:
                raise UserError(
                    f"lm.{self.role}.api_key_env: the environment variable {self.cfg.api_key_env} is not set"
                )
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _http(self) -> aiohttp.ClientSession:
        # aiohttp, not httpx: httpx's pool slows down as concurrency grows (bench/lm.py measures it)
        if self._session is None:  # created on first use, inside the runtime's event loop
            connector = aiohttp.TCPConnector(
                limit=self.cfg.concurrency * len(self.urls), limit_per_host=self.cfg.concurrency
            )
            timeout = aiohttp.ClientTimeout(total=self.cfg.retry.timeout_s)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, headers=self._headers())
            self._limits = {url: asyncio.Semaphore(self.cfg.concurrency) for url in self.urls}
        return self._session

    def check_reachable(self) -> None:
        """One quick request per URL at start-up; any HTTP answer means a server is there."""
        headers = self._headers()
        for url in self.urls:
            try:
                httpx.get(f"{url}/models", headers=headers, timeout=min(5.0, self.cfg.retry.timeout_s))
            except httpx.HTTPError as exc:
                reason = type(exc).__name__ if not str(exc) else str(exc).splitlines()[0]
                raise UserError(
                    f"lm.{self.role}: cannot reach {safe_url(url)} ({redact_text(reason, set())}); "
                    f"start the server or fix lm.{self.role}.base_url"
                ) from None

    def body(self, request: ChatRequest) -> dict[str, Any]:
        messages = request.messages
        body: dict[str, Any] = {
            "model": self.cfg.model,
            "temperature": self.cfg.temperature if request.temperature is None else request.temperature,
            "max_tokens": request.max_tokens or self.cfg.max_tokens,  # the token-limit field vLLM and llama.cpp accept
        }
        if request.tools and self.cfg.native_tools:
            body["tools"] = request.tools
            body["tool_choice"] = request.tool_choice or "auto"
        elif request.tools:  # text-parsed calls: the schemas go into the system prompt
            tools_text = tools_system_prompt(request.tools, allow_text=request.tool_choice != "required")
            messages = [{"role": "system", "content": tools_text}, *messages]
        if request.response_schema is not None:
            schema = {"name": "output", "schema": request.response_schema}
            body["response_format"] = {"type": "json_schema", "json_schema": schema}
        for key in ("seed", "stop"):
            if getattr(request, key) is not None:
                body[key] = getattr(request, key)
        body["messages"] = messages
        return body

    async def complete(self, request: ChatRequest) -> ChatResult:
        payload = json.dumps(body := self.body(request)).encode()
        session = self._http()
        retry = self.cfg.retry
        reason = "no attempt made"
        for attempt in range(retry.max_attempts):
            url = self.urls[next(self._next_url)]
            try:
                async with self._limits[url]:
                    start = time.perf_counter()
                    async with session.post(f"{url}/chat/completions", data=payload, headers=JSON) as response:
                        status, raw = response.status, await response.read()
                    latency = time.perf_counter() - start
                return self._result(status, raw, url, latency, expect_calls=bool(body.get("tools") or request.tools))
            except RetryableError as exc:
                reason = str(exc)
            except TimeoutError:
                reason = f"timed out after {retry.timeout_s:g}s"
            except aiohttp.ClientError as exc:
                reason = f"connection error ({type(exc).__name__})"
            if attempt + 1 < retry.max_attempts:
                self.retries += 1
                await asyncio.sleep(backoff_delay(attempt, retry.backoff_s, retry.max_backoff_s))
        raise LMCallError(self.role, safe_url(url), f"{reason} (gave up after {retry.max_attempts} attempts)")

    def _result(self, status: int, raw: bytes, url: str, latency: float, expect_calls: bool) -> ChatResult:
        if status in RETRY_STATUS:
            raise RetryableError(f"HTTP {status}")
        if status >= 400:
            detail = raw[:200].decode("utf-8", "replace").replace("\n", " ")
            raise LMCallError(self.role, safe_url(url), f"HTTP {status}: {detail}")
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            message = choice["message"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, IndexError, TypeError):
            raise RetryableError("the server sent an unparseable response body") from None
        content = message.get("content")
        calls = [
            ToolCall.model_validate(
                {
                    "id": c.get("id") or f"call_{i}",
                    "name": c["function"]["name"],
                    "arguments": parse_arguments(c["function"].get("arguments") or "{}"),
                }
            )
            for i, c in enumerate(message.get("tool_calls") or [])
        ]
        if expect_calls and not calls:
            calls = parse_tool_calls(content)  # e.g. llama.cpp's server answers calls inside content
            content = None if calls else content
        usage = data.get("usage") or {}
        return ChatResult(
            content=content, tool_calls=calls, prompt_tokens=usage.get("prompt_tokens") or 0,
            completion_tokens=usage.get("completion_tokens") or 0, model=data.get("model") or self.cfg.model,
            finish_reason=choice.get("finish_reason"), latency_s=latency,
        )  # fmt: skip

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
