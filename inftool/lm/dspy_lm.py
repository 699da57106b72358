"""`RoleLM`: a role's client as a DSPy LM, so agents stay plain DSPy modules.

It reports native function calling and response schemas as supported (DSPy otherwise drops
`tools` for model names it does not know) and caches through DSPy's own cache, keyed with the
`rollout_id`: a call at temperature > 0 without a rollout id is never served from the cache,
so repeated samples stay distinct.
"""

from __future__ import annotations

import json
import warnings
from types import SimpleNamespace
from typing import Any

import dspy
from dspy.clients.call_result import CallResult
from dspy.clients.execution import finalize, prepare
from dspy.utils.callback import with_callbacks

from inftool.lm.records import ChatRequest, ChatResult
from inftool.lm.runtime import RoleClient

# DSPy 3.4 supports BaseLM.forward/aforward subclasses and warns that 3.5 will not (dspy is pinned).
warnings.filterwarnings("ignore", message=r"Implementing custom LMs through BaseLM", category=DeprecationWarning)
warnings.filterwarnings("ignore", message=r"Passing OpenAI-style message", category=DeprecationWarning)


def response_schema(response_format: Any) -> dict[str, Any] | None:
    """OpenAI `response_format` (dict or pydantic class, as DSPy's JSONAdapter sends) → JSON Schema."""
    if response_format is None:
        return None
    if isinstance(response_format, type) and hasattr(response_format, "model_json_schema"):
        return response_format.model_json_schema()
    if isinstance(response_format, dict):
        if response_format.get("type") == "json_schema":
            return response_format.get("json_schema", {}).get("schema") or {"type": "object"}
        if response_format.get("type") == "json_object":
            return response_format.get("schema") or {"type": "object"}
    return None


def openai_response(result: ChatResult, cache_hit: bool = False) -> SimpleNamespace:
    message = {"role": "assistant", "content": result.content}
    if result.tool_calls:
        message["tool_calls"] = [call.openai() for call in result.tool_calls]
    return SimpleNamespace(
        choices=[SimpleNamespace(message=message, finish_reason=result.finish_reason, index=0)],
        usage={"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
               "total_tokens": result.prompt_tokens + result.completion_tokens},
        model=result.model,
        cache_hit=cache_hit,
    )  # fmt: skip


class RoleLM(dspy.BaseLM):
    def __init__(self, client: RoleClient, temperature: float, max_tokens: int, cache: bool = True) -> None:
        super().__init__(
            model=f"inftool/{client.role}", model_type="chat", temperature=temperature, max_tokens=max_tokens,
            cache=cache, num_retries=0,
        )  # fmt: skip
        self.client = client

    @property
    def supports_function_calling(self) -> bool:
        return True

    @property
    def supports_response_schema(self) -> bool:
        return True

    @property
    def supported_params(self) -> set[str]:
        """What `_request` reads; DSPy's JSONAdapter sends its output schema only to an LM listing
        `response_format` (without it, a JSON answer is left to the model's goodwill)."""
        return {"response_format", "tools", "tool_choice", "temperature", "max_tokens", "seed", "stop"}

    def _request(
        self, prompt: str | None, messages: list[dict[str, Any]] | None, kwargs: dict[str, Any]
    ) -> ChatRequest:
        merged = {**self.kwargs, **kwargs}
        if messages is None:
            messages = [{"role": "user", "content": prompt or ""}]
        stop = merged.get("stop")
        return ChatRequest(
            messages=messages,
            tools=merged.get("tools") or None,
            tool_choice=merged.get("tool_choice"),
            response_schema=response_schema(merged.get("response_format")),
            temperature=merged.get("temperature"),
            max_tokens=merged.get("max_tokens") or merged.get("max_completion_tokens"),
            seed=merged.get("seed"),
            stop=[stop] if isinstance(stop, str) else stop,
        )

    def _cache_key(self, request: ChatRequest, kwargs: dict[str, Any]) -> dict[str, Any] | None:
        rollout_id = kwargs.get("rollout_id")
        cacheable = self.cache and kwargs.get("cache", True) and (not request.temperature or rollout_id is not None)
        if not cacheable:
            return None
        return {"model": self.model, "request": request.model_dump_json(), "rollout_id": rollout_id}

    def _cached(self, request: ChatRequest, kwargs: dict[str, Any]) -> tuple[dict[str, Any] | None, Any]:
        """(cache key or None when uncacheable, the cached response or None)."""
        key = self._cache_key(request, kwargs)
        hit = dspy.cache.get(key) if key is not None else None
        return key, openai_response(ChatResult.model_validate_json(hit), cache_hit=True) if hit is not None else None

    def _answer(self, key: dict[str, Any] | None, result: ChatResult) -> SimpleNamespace:
        if key is not None:
            dspy.cache.put(key, result.model_dump_json())
        return openai_response(result)

    def forward(self, prompt: str | None = None, messages: list | None = None, **kwargs: Any) -> SimpleNamespace:
        request = self._request(prompt, messages, kwargs)
        key, hit = self._cached(request, kwargs)
        return hit if hit is not None else self._answer(key, self.client.complete(request))

    async def aforward(self, prompt: str | None = None, messages: list | None = None, **kwargs: Any) -> SimpleNamespace:
        request = self._request(prompt, messages, kwargs)
        key, hit = self._cached(request, kwargs)
        return hit if hit is not None else self._answer(key, await self.client.acomplete(request))

    async def acall(self, prompt: Any = None, *, messages: list | None = None, **kwargs: Any) -> Any:
        if kwargs.get("request") is not None or not isinstance(prompt, str | None):
            return await super().acall(prompt, messages=messages, **kwargs)  # an lm15 Request: DSPy's own path
        return await self._acall(prompt, messages=messages, **kwargs)

    @with_callbacks
    async def _acall(self, prompt: str | None = None, *, messages: list | None = None, **kwargs: Any) -> Any:
        """`BaseLM.acall` for an LM DSPy does not manage (no DSPy retries or cache: this one), minus
        its two worker-thread hops per call (dspy==3.4.1): `prepare`, which may read media files (our
        messages are text), and advisory pricing, a no-op without a provider. Same outputs, history
        and callbacks; the hops cost more CPU than the rest of a loopback call."""
        call = prepare(self, prompt, messages, kwargs, asynchronous=True)
        raw = await self.aforward(prompt=call.prompt, messages=call.messages, **call.kwargs)
        return finalize(self, call, CallResult.legacy(self, raw, kwargs=call.kwargs))

    def dump_state(self) -> dict[str, Any]:
        return {"model": self.model, **{k: v for k, v in self.kwargs.items() if k != "api_key"}}


def dumps_usage(lms: dict[str, RoleLM]) -> str:
    return json.dumps({role: lm.client.stats.as_dict() for role, lm in lms.items()}, indent=2)
