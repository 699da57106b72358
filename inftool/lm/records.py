"""What goes into and comes out of one LM call, whatever the backend."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    arguments: dict[str, Any] | str = Field(description="a dict, or the raw text when it was not a JSON object")

    def openai(self) -> dict[str, Any]:
        import json

        args = self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": args}}


class ChatRequest(BaseModel):
    """An OpenAI-style chat request. `tools` are OpenAI `tools` entries; `response_schema` a JSON Schema."""

    model_config = ConfigDict(extra="forbid")

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_schema: dict[str, Any] | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    stop: list[str] | None = None
    # With tools: the longest text answer, in characters, for a caller that scores the calls alone (BFCL's
    # single-turn items); a backend that constrains its output (embedded) stops the text there, others ignore it.
    answer_max_chars: int | None = Field(None, ge=0)


class ChatResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    finish_reason: str | None = None
    latency_s: float = 0.0


class LMCallError(Exception):
    """One call failed for good (after its retries). The caller decides what to do with it."""

    def __init__(self, role: str, where: str, reason: str) -> None:
        super().__init__(f"LM call for role '{role}' at {where} failed: {reason}")
        self.role, self.where, self.reason = role, where, reason
