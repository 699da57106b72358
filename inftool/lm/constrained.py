"""JSON Schemas that constrain a small model's output to valid structure.

A constrained model cannot loop forever inside a string or a call list: strings get a
`maxLength`, call lists a `maxItems`, argument objects `additionalProperties: false`. A
schema that offers several call slots invites parallel calls (a single slot makes models stop
after one).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from inftool.lm.records import ChatRequest

MAX_STRING = 160
MAX_ARRAY = 8


def bound_schema(schema: Any, depth: int = 0) -> Any:
    """A copy with every string, array and object bounded (grammar-friendly)."""
    if not isinstance(schema, dict) or depth > 24:
        return schema
    out = {k: v for k, v in schema.items() if k not in ("x-bfcl-type", "examples", "example", "default")}
    types = out.get("type")
    type_set = set(types) if isinstance(types, list) else {types}
    if "string" in type_set and "enum" not in out and "const" not in out and "format" not in out:
        out.setdefault("maxLength", MAX_STRING)
        out.pop("pattern", None)  # llama.cpp grammars support few regex features; the schema gate checks it
    if "array" in type_set:
        out["maxItems"] = min(int(out.get("maxItems", MAX_ARRAY)), MAX_ARRAY)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: bound_schema(v, depth + 1) for k, v in out["properties"].items()}
        out.setdefault("additionalProperties", False)
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = bound_schema(out[key], depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(out.get(key), list):
            out[key] = [bound_schema(s, depth + 1) for s in out[key]]
    return out


def tool_call_schema(tools: list[dict[str, Any]], max_calls: int = 4, allow_text: bool = True) -> dict[str, Any]:
    """Output schema for "call some of these tools, or answer in text".

    `{"tool_calls": [{"name": <const>, "arguments": <that tool's schema>}, ...]}` or
    `{"answer": "..."}` when `allow_text`.
    """
    options = []
    for tool in tools:
        fn = tool.get("function", tool)
        params = bound_schema(copy.deepcopy(fn.get("parameters") or {"type": "object", "properties": {}}))
        params.setdefault("type", "object")
        options.append(
            {
                "type": "object",
                "properties": {"name": {"const": fn["name"]}, "arguments": params},
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    calls = {
        "type": "object",
        "properties": {
            "tool_calls": {
                "type": "array",
                "items": {"anyOf": options} if len(options) > 1 else options[0],
                "minItems": 1,
                "maxItems": max_calls,
            }
        },
        "required": ["tool_calls"],
        "additionalProperties": False,
    }
    if not allow_text:
        return calls
    answer = {
        "type": "object",
        "properties": {"answer": {"type": "string", "maxLength": 600}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    return {"anyOf": [calls, answer]}


def tools_system_prompt(tools: list[dict[str, Any]], allow_text: bool = True) -> str:
    """Tool schemas rendered for a model whose chat template has no `tools` slot."""

    lines = ["You can call these functions (JSON Schema of their arguments):"]
    for tool in tools:
        fn = tool.get("function", tool)
        lines.append(json.dumps({"name": fn["name"], "description": fn.get("description", ""),
                                 "parameters": fn.get("parameters", {})}, separators=(",", ":")))  # fmt: skip
    lines.append('To call functions reply with {"tool_calls": [{"name": ..., "arguments": {...}}, ...]}.')
    if allow_text:
        lines.append('To answer without calling a function reply with {"answer": "..."}.')
    return "\n".join(lines)


def plain_messages(request: ChatRequest) -> list[dict[str, str]]:
    """Messages for a chat template with no tool support: tools go into the system prompt,
    assistant calls become JSON, tool results become user turns."""
    messages: list[dict[str, str]] = []
    for message in request.messages:
        role, content = message.get("role", "user"), message.get("content") or ""
        if not isinstance(content, str):  # OpenAI content parts
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        if role == "assistant" and message.get("tool_calls"):
            calls = [
                {"name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in message["tool_calls"]
            ]
            content = json.dumps({"tool_calls": calls})
        elif role == "tool":
            role, content = "user", f"Result of {message.get('name') or 'the function'}: {content}"
        messages.append({"role": role if role in ("system", "user", "assistant") else "user", "content": content})
    if request.tools:
        tools_text = tools_system_prompt(request.tools, allow_text=request.tool_choice != "required")
        if messages and messages[0]["role"] == "system":
            messages[0] = {"role": "system", "content": f"{messages[0]['content']}\n\n{tools_text}"}
        else:
            messages.insert(0, {"role": "system", "content": tools_text})
    return messages
