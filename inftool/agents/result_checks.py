"""The execution checks both gates run on a tool's result: `schema_echo` (the result holds a JSON
Schema instead of data) and `ignored_arguments` (the result leaves out or replaces an id the call
passed), joined in `result_problem`; and `field_values`, every value of a field in a result.
"""

from __future__ import annotations

import json
from typing import Any

from inftool.agents.results import _is_id, _key
from inftool.specs import ToolSpec

JSON_TYPES = {"object", "string", "integer", "number", "boolean", "array", "null"}
SCHEMA_KEYS = {"properties", "items", "required", "additionalProperties", "$schema", "$ref", "enum", "anyOf",
               "oneOf", "allOf", "minLength", "maxLength", "minimum", "maximum", "pattern", "format"}  # fmt: skip


def schema_echo(result: Any, depth: int = 0) -> str | None:
    """Where a result holds a JSON Schema instead of data ('data', say), or None."""
    if depth > 6:
        return None
    if isinstance(result, dict):
        kind = result.get("type")
        if isinstance(kind, str) and kind in JSON_TYPES and set(result) & SCHEMA_KEYS:
            return "the result is a JSON Schema" if depth == 0 else "a field holds a JSON Schema"
        props = result.get("properties")
        if isinstance(props, dict) and props and all(isinstance(v, dict) and "type" in v for v in props.values()):
            return "the result holds a schema's properties"
        for key, value in result.items():
            if found := schema_echo(value, depth + 1):
                return found if "'" in found else f"{found} ('{key}')"
    elif isinstance(result, list):
        for value in result[:20]:
            if found := schema_echo(value, depth + 1):
                return found
    return None


def _schema_fields(schema: Any, depth: int = 0) -> set[str]:
    if not isinstance(schema, dict) or depth > 3:
        return set()
    found = set()
    if schema.get("type") == "array" or "items" in schema:
        found |= _schema_fields(schema.get("items"), depth + 1)
    for key, sub in (schema.get("properties") or {}).items():
        found.add(_key(key))
        found |= _schema_fields(sub, depth + 1)
    return found


def field_values(result: Any, field: str) -> list[Any]:
    """Every scalar value of `field` (names compared without case or `_`) anywhere in a result."""
    return _values_of(result, _key(field))


def _values_of(result: Any, key: str, depth: int = 0) -> list[Any]:
    if depth > 4:
        return []
    found = []
    if isinstance(result, dict):
        for k, v in result.items():
            if _key(k) == key and not isinstance(v, dict | list):
                found.append(v)
            found += _values_of(v, key, depth + 1)
    elif isinstance(result, list):
        for v in result[:50]:
            found += _values_of(v, key, depth + 1)
    return found


def ignored_arguments(tool: ToolSpec, arguments: Any, result: Any) -> str | None:
    """An id the call passed, where the spec's output schema has a field of that name, that the
    result leaves out or replaces: the result ignores the call."""
    if not isinstance(arguments, dict) or not isinstance(tool.output_schema, dict):
        return None
    fields = _schema_fields(tool.output_schema)
    for name, value in arguments.items():
        if not _is_id(name) or not isinstance(value, str | int) or isinstance(value, bool):
            continue
        key = _key(name)
        if key not in fields:
            continue
        found = _values_of(result, key)
        if str(value) not in {str(v) for v in found}:
            seen = f"its {name} is {json.dumps(found[0])[:40]}" if found else "it has no such field"
            return f"{tool.name}'s result ignores {name}={json.dumps(value)[:40]} ({seen})"
    return None


def result_problem(tool: ToolSpec, arguments: Any, result_text: str) -> str | None:
    """Why a tool's (non-error) result is not a faithful answer to the call, or None."""
    try:
        result = json.loads(result_text)
    except (json.JSONDecodeError, TypeError):
        return None  # text results are a server's business
    if where := schema_echo(result):
        return f"{tool.name} returned a schema, not data: {where}"
    return ignored_arguments(tool, arguments, result)
