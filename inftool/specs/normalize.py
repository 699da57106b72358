"""Small normalizations shared by the loaders: function names, BFCL types, unique names, size caps."""

from __future__ import annotations

import re
from typing import Any

_INVALID = re.compile(r"[^A-Za-z0-9_]+")
MAX_NAME = 64
MAX_NESTING = 96  # levels in one schema; the recursive walks downstream (validators, grammars) stay far from the limit
MAX_SCHEMA_NODES = 20_000  # per tool, shared parts counted once per use: every `tools/list` and prompt sends it whole

# BFCL (and its Java/JavaScript categories) use their own type names; JSON Schema has fewer.
BFCL_TYPES: dict[str, str | None] = {
    "dict": "object", "object": "object", "hashmap": "object", "map": "object",
    "float": "number", "double": "number", "number": "number",
    "integer": "integer", "int": "integer", "long": "integer", "short": "integer", "byte": "integer",
    "string": "string", "str": "string", "char": "string", "character": "string",
    "boolean": "boolean", "bool": "boolean",
    "array": "array", "list": "array", "arraylist": "array", "tuple": "array", "set": "array",
    "any": None,
}  # fmt: skip
BFCL_ONLY_TYPES = {"dict", "float", "tuple", "any"}


def function_name(raw: str) -> str:
    """A valid function name (`^[A-Za-z_][A-Za-z0-9_]{0,63}$`) from an operationId or method+path."""
    name = _INVALID.sub("_", raw).strip("_")
    name = re.sub(r"_{2,}", "_", name)
    if not name or name[0].isdigit():
        name = f"op_{name}"
    return name[:MAX_NAME].rstrip("_") or "op"


def unique_names(names: list[str]) -> list[str]:
    """Rename later duplicates `name_2`, `name_3`, … in order, never colliding with any name."""
    taken = set(names)
    seen: set[str] = set()
    out = []
    for name in names:
        if name in seen:
            n = 2
            while f"{name[: MAX_NAME - 4]}_{n}" in taken:
                n += 1
            name = f"{name[: MAX_NAME - 4]}_{n}"
            taken.add(name)
        seen.add(name)
        out.append(name)
    return out


def bfcl_schema(node: Any, depth: int = 0) -> Any:
    """BFCL parameter schema → JSON Schema (`dict`→object, `float`→number, `tuple`→array, `any`→no type)."""
    if depth > 64:
        raise ValueError("schema nested deeper than 64 levels")
    if isinstance(node, list):
        return [bfcl_schema(item, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type" and isinstance(value, str):
            mapped = BFCL_TYPES.get(value.lower(), "string")
            if mapped is not None:
                out["type"] = mapped
            if value.lower() != mapped:
                out["x-bfcl-type"] = value
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: bfcl_schema(sub, depth + 1) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
            out[key] = bfcl_schema(value, depth + 1)
        else:
            out[key] = value
    return out


def is_object_schema(schema: Any) -> bool:
    return (
        isinstance(schema, dict)
        and schema.get("type", "object") == "object"
        and isinstance(schema.get("properties", {}), dict)
    )


def expanded_size(node: Any, budget: int, max_depth: int | None = None) -> int:
    """Nodes in `node` counted as a tree (shared parts once per use), stopping past `budget`;
    raises ValueError at a node nested deeper than `max_depth`. Iterative, and nodes are counted
    as they are queued, so even a wide cycle costs at most `budget` steps and queue entries."""
    count, stack = 1, [(node, 0)]
    while stack and count <= budget:
        item, depth = stack.pop()
        if max_depth is not None and depth > max_depth:
            raise ValueError(f"schema nested deeper than {max_depth} levels")
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        count += len(children)
        stack.extend((child, depth + 1) for child in children)
    return count


def check_schema_bounds(*schemas: Any) -> None:
    """Raise ValueError when one tool's schemas together exceed MAX_SCHEMA_NODES nodes or MAX_NESTING levels."""
    size = sum(expanded_size(schema, MAX_SCHEMA_NODES, MAX_NESTING) for schema in schemas)
    if size > MAX_SCHEMA_NODES:
        raise ValueError(f"schema too large: over {MAX_SCHEMA_NODES} nodes")
