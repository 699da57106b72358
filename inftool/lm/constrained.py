"""JSON Schemas that constrain a small model's output to valid structure.

A constrained model cannot loop forever inside a string or a call list: strings get a
`maxLength`, call lists a `maxItems`, argument objects `additionalProperties: false`. A
schema that offers several call slots invites parallel calls (a single slot makes models stop
after one).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from inftool.lm.records import ChatRequest

MAX_STRING = 160
MAX_ARRAY = 8
MAX_ANSWER = 600  # a text answer beside tools, unless the request bounds it (`ChatRequest.answer_max_chars`)
FORMAT_PATTERNS = {
    "email": "^[a-z][a-z0-9._]{0,15}@[a-z][a-z0-9-]{1,12}[.](com|org|net|io|dev)$",
    "uri": "^https://[a-z][a-z0-9-]{1,15}[.](com|org|net|io)(/[a-z0-9_-]{1,12}){0,3}$",
    "hostname": "^[a-z][a-z0-9-]{1,15}[.](com|org|net|io)$",
}


def bound_schema(schema: Any, depth: int = 0, max_string: int = MAX_STRING) -> Any:
    """A copy with every string, array and object bounded (grammar-friendly)."""
    if not isinstance(schema, dict) or depth > 24:
        return schema
    out = {k: v for k, v in schema.items() if k not in ("x-bfcl-type", "examples", "example", "default")}
    types = out.get("type")
    type_set = set(types) if isinstance(types, list) else {types}
    # A spec's own regex is not passed on (real specs' regexes use look-arounds and other syntax
    # grammar engines refuse); the schema check after generation judges it. Formats get safe patterns.
    out.pop("pattern", None)
    if "string" in type_set and out.get("format") in FORMAT_PATTERNS:
        out["pattern"] = FORMAT_PATTERNS[out["format"]]
    if "string" in type_set and not {"enum", "const", "format", "pattern"} & out.keys():
        out["maxLength"] = min(int(out.get("maxLength", max_string)), max_string)
    if type_set == {"integer"} and "enum" not in out and (bounds := _int_bounds(out)) and bounds[1] - bounds[0] < 64:
        out["enum"] = list(range(bounds[0], bounds[1] + 1))  # an enum: what every grammar engine enforces
    if "array" in type_set:
        out["maxItems"] = min(int(out.get("maxItems", MAX_ARRAY)), MAX_ARRAY)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: bound_schema(v, depth + 1, max_string) for k, v in out["properties"].items()}
        out.setdefault("additionalProperties", False)
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = bound_schema(out[key], depth + 1, max_string)
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(out.get(key), list):
            out[key] = [bound_schema(s, depth + 1, max_string) for s in out[key]]
    return out


def string_fields(schema: Any, depth: int = 0) -> int:
    """How many free strings a value of `schema` can hold at most once each (arrays count one)."""
    if not isinstance(schema, dict) or depth > 24:
        return 0
    types = schema.get("type")
    own = int("string" in (types if isinstance(types, list) else [types]) and "enum" not in schema)
    properties = schema.get("properties")
    children = [*(properties.values() if isinstance(properties, dict) else []),
                *(schema[k] for k in ("items", "additionalProperties") if isinstance(schema.get(k), dict))]  # fmt: skip
    return own + sum(string_fields(c, depth + 1) for c in children)


def string_budget(parameters: Any, max_tokens: int | None) -> int:
    """The longest string a call may write so that one whole call fits `max_tokens`: a string can
    cost a token per character (digits do), and the JSON around it costs some too."""
    if not max_tokens:
        return MAX_STRING
    strings = max(1, string_fields(parameters))
    overhead = 24 + 6 * len((parameters or {}).get("properties") or {}) if isinstance(parameters, dict) else 24
    return max(8, min(MAX_STRING, (max_tokens - overhead) // strings))


def _int_bounds(schema: dict[str, Any]) -> tuple[int, int] | None:
    low = schema.get("minimum", schema["exclusiveMinimum"] + 1 if "exclusiveMinimum" in schema else None)
    high = schema.get("maximum", schema["exclusiveMaximum"] - 1 if "exclusiveMaximum" in schema else None)
    if isinstance(low, int | float) and isinstance(high, int | float) and low <= high:
        return int(low), int(high)
    return None


def clamp_to_schema(value: Any, schema: Any, depth: int = 0) -> Any:
    """Numbers pulled inside their schema's bounds, recursively: the one constraint the grammar
    cannot express. Everything else is returned as it is."""
    if not isinstance(schema, dict) or depth > 24:
        return value
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        props = schema["properties"]
        return {k: clamp_to_schema(v, props.get(k), depth + 1) for k, v in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [clamp_to_schema(v, schema["items"], depth + 1) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        step = 1 if isinstance(value, int) else 1e-6
        if isinstance(schema.get("minimum"), int | float):
            value = max(value, schema["minimum"])
        if isinstance(schema.get("exclusiveMinimum"), int | float) and value <= schema["exclusiveMinimum"]:
            value = schema["exclusiveMinimum"] + step
        if isinstance(schema.get("maximum"), int | float):
            value = min(value, schema["maximum"])
        if isinstance(schema.get("exclusiveMaximum"), int | float) and value >= schema["exclusiveMaximum"]:
            value = schema["exclusiveMaximum"] - step
    return value


def tool_call_schema(
    tools: list[dict[str, Any]],
    max_calls: int = 4,
    allow_text: bool = True,
    max_tokens: int | None = None,
    answer_max_chars: int | None = None,
) -> dict[str, Any]:
    """Output schema for "call some of these tools, or answer in text".

    `{"tool_calls": [{"name": <const>, "arguments": <that tool's schema>}, ...]}` or
    `{"answer": "..."}` (at most `answer_max_chars`, default `MAX_ANSWER`) when `allow_text`. With `max_tokens`, strings
    are bounded so that one complete call fits the budget.
    """
    options = []
    for tool in tools:
        fn = tool.get("function", tool)
        raw = fn.get("parameters") or {"type": "object", "properties": {}}
        params = bound_schema(copy.deepcopy(raw), max_string=string_budget(raw, max_tokens))
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
        "properties": {
            "answer": {"type": "string", "maxLength": MAX_ANSWER if answer_max_chars is None else answer_max_chars}
        },
        "required": ["answer"],
        "additionalProperties": False,
    }
    return {"anyOf": [calls, answer]}


def tools_system_prompt(tools: list[dict[str, Any]], allow_text: bool = True) -> str:
    """Tool schemas rendered for a model whose chat template has no `tools` slot. The fixed
    instructions come first, so consecutive prompts share the longest prefix (its KV cache is
    reused); vendor keys (`x-...`) are for our matcher, not the model, and stay out."""

    lines = ['To call functions reply with {"tool_calls": [{"name": ..., "arguments": {...}}, ...]}.']
    if allow_text:
        lines.append('To answer without calling a function reply with {"answer": "..."}.')
    lines.append("You can call these functions (JSON Schema of their arguments):")
    for tool in tools:
        fn = tool.get("function", tool)
        lines.append(json.dumps({"name": fn["name"], "description": fn.get("description", ""),
                                 "parameters": without_keys(fn.get("parameters", {}), lambda k: k.startswith("x-"))},
                                separators=(",", ":")))  # fmt: skip
    return "\n".join(lines)


def without_keys(schema: Any, drop: Callable[[str], bool]) -> Any:
    """A copy of `schema` without the keys `drop` names, at every depth."""
    if isinstance(schema, dict):
        return {k: without_keys(v, drop) for k, v in schema.items() if not drop(str(k))}
    if isinstance(schema, list):
        return [without_keys(v, drop) for v in schema]
    return schema


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
