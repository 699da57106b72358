"""Tool calls parsed out of model text, whatever shape the model wrote them in.

Shapes: Hermes/Qwen `<tool_call>{...}</tool_call>` tags; a JSON object (`{"name", "arguments"}`,
`{"tool_calls": [...]}`, `{"function": {...}}`) or a list of them, bare or in a ``` fence;
a Python-style call list `[f(a=1), g(b="x")]` (BFCL's prompt format). This module is the one
parser used by the LM backends, the gates and the generated OpenRLHF reward file.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from inftool.lm.records import ToolCall

_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FENCED = re.compile(r"```(?:json|python)?\s*(.*?)```", re.DOTALL)


def parse_arguments(raw: Any) -> dict[str, Any] | str:
    """Call arguments as a dict; anything that is not a JSON object stays text for the format gate."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            return raw
        return parsed if isinstance(parsed, dict) else raw
    return str(raw)


def _call_from_obj(obj: Any, index: int) -> ToolCall | None:
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("function"), dict):  # OpenAI shape
        call_id = str(obj.get("id") or f"call_{index}")
        obj = obj["function"]
    else:
        call_id = str(obj.get("id") or f"call_{index}")
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        return None
    return ToolCall(id=call_id, name=name, arguments=parse_arguments(obj.get("arguments", obj.get("parameters", {}))))


def calls_from_json(data: Any) -> list[ToolCall] | None:
    """None when `data` is not a call shape at all; [] for an explicit empty call list."""
    if isinstance(data, dict) and isinstance(data.get("tool_calls"), list):
        data = data["tool_calls"]
    items = data if isinstance(data, list) else [data]
    calls = [_call_from_obj(item, i) for i, item in enumerate(items)]
    if any(c is None for c in calls):
        return None
    return [c for c in calls if c is not None]


def _python_value(node: ast.AST) -> Any:
    return ast.literal_eval(node)


def calls_from_python(text: str) -> list[ToolCall] | None:
    """`[f(a=1), mod.g(b='x')]` or `f(a=1)` → calls; None if it is not that."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    nodes = tree.elts if isinstance(tree, ast.List | ast.Tuple) else [tree]
    calls = []
    for index, node in enumerate(nodes):
        if not isinstance(node, ast.Call) or node.args:
            return None
        try:
            name = ast.unparse(node.func)
            args = {kw.arg: _python_value(kw.value) for kw in node.keywords if kw.arg}
        except (ValueError, TypeError, SyntaxError, RecursionError):
            return None
        if not re.fullmatch(r"[A-Za-z_][\w.]*", name):
            return None
        calls.append(ToolCall(id=f"call_{index}", name=name, arguments=args))
    return calls


def _json_candidates(text: str) -> list[str]:
    stripped = text.strip()
    candidates = [m.group(1) for m in _FENCED.finditer(stripped)]
    candidates.append(stripped)
    start = min((i for i in (stripped.find("{"), stripped.find("[")) if i >= 0), default=-1)
    if start > 0:
        candidates.append(stripped[start:])
    return candidates


def parse_tool_calls(text: str | None) -> list[ToolCall]:
    """All calls found in `text`; [] when it holds none (a plain text answer)."""
    if not text:
        return []
    tagged = _TAGGED.findall(text)
    if tagged:
        calls = []
        for body in tagged:
            try:
                found = calls_from_json(json.loads(body))
            except json.JSONDecodeError:
                found = calls_from_python(body)
            calls += found or []
        return [c.model_copy(update={"id": f"call_{i}"}) for i, c in enumerate(calls)]
    decoder = json.JSONDecoder()
    for candidate in _json_candidates(text):
        try:
            data, _ = decoder.raw_decode(candidate)
        except json.JSONDecodeError:
            found = calls_from_python(candidate)
        else:
            found = calls_from_json(data)
        if found is not None:
            return found
    return []
