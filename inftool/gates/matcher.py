"""Call matching under BFCL's AST semantics.

An expected call is `{name: {argument: [acceptable values]}}` (BFCL's possible-answer shape;
`""` among the values means the argument may be omitted). A model call passes when: the
name matches; every required argument is present; every given argument is both in the tool's
schema and in the expected call; its type fits the schema (an int is accepted for a float);
and its value is acceptable, strings compared case-insensitively with spaces and `,./-_*^`
removed, lists element-wise, dicts key by key. Parallel calls match order-free, one-to-one.
"""

from __future__ import annotations

import re
from typing import Any

from inftool.specs import ToolSpec

ExpectedCall = dict[str, dict[str, list[Any]]]
_STRIP = re.compile(r"[ ,./\-_*^]")
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "array": (list, tuple), "object": (dict,),
}  # fmt: skip


def standardize(text: str) -> str:
    return _STRIP.sub("", text).lower().replace("'", '"')


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return standardize(value)
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    return value


def _is(value: Any, kind: str) -> bool:
    if isinstance(value, bool):
        return kind == "boolean"
    return isinstance(value, _TYPES[kind])


def _type_ok(value: Any, schema: dict[str, Any], acceptable: list[Any]) -> bool:
    """The schema's type (items too), or, as BFCL allows, the type of the acceptable answers."""
    kind = schema.get("type")
    if not isinstance(kind, str) or kind not in _TYPES:
        return True  # `any`, or a union: the value check decides
    items = schema.get("items") if kind == "array" else None
    inner = items.get("type") if isinstance(items, dict) else None
    if _is(value, kind) and not (inner in _TYPES and not all(_is(v, inner) for v in value)):
        return True
    return type(value) in {type(a) for a in acceptable if a != ""}


def _dict_ok(value: dict[str, Any], acceptable: list[Any]) -> bool:
    for answer in acceptable:
        if not isinstance(answer, dict):
            continue
        if any(k not in answer or _norm(v) not in [_norm(a) for a in answer[k]] for k, v in value.items()):
            continue
        if all(k in value or "" in vals for k, vals in answer.items()):
            return True
    return False


def _value_ok(value: Any, acceptable: list[Any]) -> bool:
    if isinstance(value, dict):
        return _dict_ok(value, acceptable)
    if isinstance(value, list | tuple) and value and all(isinstance(v, dict) for v in value):
        return any(
            isinstance(a, list)
            and len(a) == len(value)
            and all(_dict_ok(v, [d]) for v, d in zip(value, a, strict=True))
            for a in acceptable
        )
    normalized = _norm(value)
    return any(normalized == _norm(a) for a in acceptable if a != "" or value == "")


def _acceptable(value: Any) -> Any:
    """A concrete value in possible-answer form (a dict answer lists acceptable values per key)."""
    if isinstance(value, dict):
        return {k: [v] for k, v in value.items()}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [_acceptable(v) for v in value]
    return value


def expected_from(name: str, arguments: dict[str, Any]) -> ExpectedCall:
    """A concrete call (a plan's, a label's) as a BFCL possible answer."""
    return {name: {k: [_acceptable(v)] for k, v in arguments.items()}}


def match_call(name: str, arguments: Any, expected: ExpectedCall, tool: ToolSpec | None) -> str | None:
    """None when `name(arguments)` satisfies `expected`; else the reason it does not."""
    ((expected_name, expected_args),) = expected.items()
    if name != expected_name:
        return f"wrong function: {name} (expected {expected_name})"
    if not isinstance(arguments, dict):
        return "arguments are not a JSON object"
    schema = tool.parameters if tool else {"properties": {}, "required": []}
    props = schema.get("properties", {})
    for required in schema.get("required", []):
        if required not in arguments:
            return f"missing required argument '{required}'"
    for arg, value in arguments.items():
        if (tool is not None and arg not in props) or arg not in expected_args:
            return f"unexpected argument '{arg}'"
        acceptable = expected_args[arg]
        if not _type_ok(value, props.get(arg, {}), acceptable):
            return f"wrong type for '{arg}': {type(value).__name__}"
        if not _value_ok(value, acceptable):
            return f"wrong value for '{arg}': {value!r}"
    for arg, acceptable in expected_args.items():
        if arg not in arguments and "" not in acceptable:
            return f"missing argument '{arg}'"
    return None


def match_calls(
    calls: list[tuple[str, Any]], expected: list[ExpectedCall], tools: dict[str, ToolSpec], ordered: bool = False
) -> str | None:
    """All expected calls, each matched by a distinct model call (order-free unless `ordered`)."""
    if len(calls) != len(expected):
        return f"wrong number of calls: {len(calls)} (expected {len(expected)})"
    if ordered:
        for (name, args), want in zip(calls, expected, strict=True):
            if reason := match_call(name, args, want, tools.get(name)):
                return reason
        return None
    unused = list(range(len(calls)))
    for want in expected:
        reasons = []
        for i in unused:
            reason = match_call(*calls[i], want, tools.get(calls[i][0]))
            if reason is None:
                unused.remove(i)
                break
            reasons.append(reason)
        else:
            return reasons[0] if reasons else "no call left to match"
    return None
