"""Call matching under BFCL's AST semantics (its `ast_checker`, for JSON-typed calls).

An expected call is `{name: {argument: [acceptable values]}}` (BFCL's possible-answer shape;
`""` among the values means the argument may be omitted). A model call passes when the name
matches; every required argument is present; every given argument is both in the tool's schema
and in the expected call; its type fits; and its value is acceptable. As in BFCL:

- types are exact (a bool is no integer); an int is accepted for a float (number) parameter,
  but not inside an array: array elements are type-checked one level deep, against the declared
  item type or the type of the acceptable lists' first element;
- a tuple passes only for a declared tuple (BFCL's `tuple` type); BFCL's `any` means a string;
- an answer whose type is not the declared one (a "variable": the string `"x"` standing for a
  number, say) is compared exactly, as is a value of that answer's type; otherwise strings are
  compared case-insensitively with spaces and `,./-_*^` removed, lists element-wise (their string
  elements so), dicts key by key (string values so) and lists of dicts in order;
- an optional array accepts `[]` (BFCL turns the `""` marker into an empty list).

A schema type outside BFCL's (a union, none) checks no type; the value's own type picks the
comparison. Parallel calls match order-free, one-to-one.
"""

from __future__ import annotations

import re
from typing import Any

from inftool.specs import ToolSpec

ExpectedCall = dict[str, dict[str, list[Any]]]
_STRIP = re.compile(r"[ ,./\-_*^]")
# JSON Schema type (or BFCL's own, kept as `x-bfcl-type`) → the Python type BFCL checks for.
_PYTHON: dict[str, type] = {
    "string": str, "integer": int, "number": float, "float": float, "boolean": bool, "array": list,
    "tuple": list, "object": dict, "dict": dict, "any": str,
}  # fmt: skip


def standardize(text: str) -> str:
    return _STRIP.sub("", text).lower().replace("'", '"')


def _std(value: Any) -> Any:
    return standardize(value) if type(value) is str else value


def _kind(schema: Any) -> str | None:
    """BFCL's type name for a parameter schema (`tuple`/`any`/`float` survive as `x-bfcl-type`)."""
    if not isinstance(schema, dict):
        return None
    bfcl = str(schema.get("x-bfcl-type", "")).lower()
    if bfcl in ("tuple", "any"):
        return bfcl
    kind = schema.get("type")
    return kind if isinstance(kind, str) and kind in _PYTHON else None


def _answer_type(acceptable: list[Any]) -> type | None:
    """The type of the first acceptable value that is not the optional marker (BFCL's)."""
    return next((type(a) for a in acceptable if a != ""), None)


def _type_fits(value: Any, expected: type, acceptable: list[Any]) -> bool:
    return type(value) is expected or type(value) is _answer_type(acceptable)


def _elements_fit(value: list[Any], item: type, acceptable: list[Any]) -> bool:
    """One acceptable answer whose elements' type every element has (a non-list answer, such as
    the optional marker, constrains nothing: BFCL's check passes)."""
    return any(not isinstance(answer, list) or all(_type_fits(v, item, answer) for v in value) for answer in acceptable)


def _dict_ok(value: dict[str, Any], acceptable: list[Any]) -> bool:
    for answer in acceptable:
        if not isinstance(answer, dict):
            continue
        try:  # an answer's values are lists; other shapes are compared as BFCL's loops see them, or fail
            if any(k not in answer or _std(v) not in [_std(a) for a in answer[k]] for k, v in value.items()):
                continue
            if any(k not in value and "" not in vals for k, vals in answer.items()):
                continue
        except TypeError:
            continue
        return True
    return False


def _list_dicts_ok(value: list[Any], acceptable: list[Any]) -> bool:
    return any(
        isinstance(answer, list | str)
        and len(answer) == len(value)
        and all(isinstance(v, dict) and _dict_ok(v, [d]) for v, d in zip(value, answer, strict=True))
        for answer in acceptable
    )


def _list_ok(value: list[Any], acceptable: list[Any]) -> bool:
    mine = [_std(v) for v in value]
    return any(mine == [_std(a) for a in answer] for answer in acceptable if isinstance(answer, list | tuple | str))


def _string_ok(value: str, acceptable: list[Any]) -> bool:
    return standardize(value) in [standardize(a) for a in acceptable if type(a) is str]


def check_value(arg: str, value: Any, schema: dict[str, Any], acceptable: list[Any]) -> str | None:
    """None when `value` is acceptable for parameter `arg` (schema `schema`); else the reason."""
    kind = _kind(schema)
    expected = _PYTHON.get(kind) if kind else None
    items = schema.get("items") if kind in ("array", "tuple") else None
    item_kind = _kind(items)
    item = _PYTHON.get(item_kind) if item_kind else None
    answer_type = _answer_type(acceptable)
    if kind == "tuple" and type(value) is tuple:
        value = list(value)
    if kind in ("number", "float") and type(value) is int:
        value = float(value)
    variable = expected is not None and answer_type is not None and answer_type is not expected
    if expected is not None and type(value) is not expected:
        if type(value) is not answer_type:
            return f"wrong type for '{arg}': {type(value).__name__}"
        variable = True
    elif expected is list and item is not None and not _elements_fit(value, item, acceptable):
        return f"wrong element type for '{arg}': {[type(v).__name__ for v in value]}"
    if not variable:
        shape = expected or type(value)
        if shape is dict:
            ok = isinstance(value, dict) and _dict_ok(value, acceptable)
        elif shape is list and (item is dict or (item is None and value and all(type(v) is dict for v in value))):
            ok = _list_dicts_ok(value, acceptable)
        elif shape is str:
            ok = _string_ok(value, acceptable)
        elif shape in (list, tuple):
            ok = _list_ok(list(value), acceptable)
        else:
            ok = value in acceptable
        return None if ok else f"wrong value for '{arg}': {value!r}"
    return None if value in acceptable else f"wrong value for '{arg}': {value!r} (compared exactly)"


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
        if reason := check_value(arg, value, props.get(arg, {}), expected_args[arg]):
            return reason
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
