"""Raw spec files → `Toolset`s, with the format detected from content.

Formats: OpenAPI 3.x (YAML or JSON), OpenAI `tools` JSON, BFCL function docs (a list of
functions, or BFCL's JSONL data with a `function` list per line), MCP `tools/list` results.
Nothing here raises on bad input: a file that cannot be read is one `LoadIssue`, a bad part of
a readable file is one `LoadIssue` and the rest loads. Sizes are bounded for every format: YAML
alias expansion per document, and nodes and nesting per tool (`normalize.check_schema_bounds`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from inftool.specs.normalize import (
    BFCL_ONLY_TYPES,
    bfcl_schema,
    check_schema_bounds,
    expanded_size,
    function_name,
    is_object_schema,
    unique_names,
)
from inftool.specs.openapi import load_openapi
from inftool.specs.records import LoadIssue, SpecFormat, Toolset, ToolSpec

SPEC_SUFFIXES = {".json", ".yaml", ".yml", ".jsonl"}
MAX_FILE_BYTES = 256 * 1024 * 1024
# YAML aliases share one object per anchor, so a tiny file can stand for a huge tree ("billion laughs");
# anything that serializes it (`tools/list`, prompts) expands it. An alias-free document has fewer nodes
# than bytes, so this allows 4x reuse on top and refuses more.
ALIAS_NODES_FLOOR = 1_000_000
ALIAS_NODES_PER_BYTE = 4
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_document(path: Path) -> Any:
    """Parse JSON, JSONL or YAML; raises ValueError with a readable reason."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"file is {size / 2**20:.0f} MiB, over the {MAX_FILE_BYTES // 2**20} MiB limit")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    stripped = text.lstrip()
    if not stripped:
        raise ValueError("empty file")
    try:
        return _parse(text, stripped, path.suffix)
    except RecursionError:  # the parsers recurse per level: a file of 100k brackets must not sink its folder
        raise ValueError("nested too deeply to parse") from None


def _parse(text: str, stripped: str, suffix: str) -> Any:
    if stripped[0] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if suffix == ".jsonl" or _looks_like_jsonl(stripped):
                return _read_jsonl(text)
            if suffix == ".json":
                raise ValueError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    try:
        document = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ValueError(f"invalid YAML: {problem}{where}") from None
    budget = ALIAS_NODES_FLOOR + ALIAS_NODES_PER_BYTE * len(text)
    if expanded_size(document, budget) > budget:  # stops at the budget: never walks a bomb or a cycle whole
        raise ValueError(f"YAML aliases expand to over {budget:,} nodes (an alias bomb or a cycle?); use fewer aliases")
    return document


def _looks_like_jsonl(text: str) -> bool:
    first = text.split("\n", 1)[0].strip()
    try:
        json.loads(first)
    except json.JSONDecodeError:
        return False
    return True


def _read_jsonl(text: str) -> list[Any]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"invalid JSON Lines: {exc.msg} on line {number}") from None
    return rows


def detect_format(document: Any) -> SpecFormat | None:
    if isinstance(document, dict):
        if "openapi" in document or "swagger" in document:
            return "openapi"
        result = document.get("result")
        if isinstance(result, dict) and not isinstance(result.get("result"), dict):  # JSON-RPC: one level, as load_mcp
            return detect_format(result)
        if isinstance(document.get("tools"), list):
            return detect_format(document["tools"]) or "mcp"
        if "inputSchema" in document:
            return "mcp"
        if "function" in document or ("name" in document and "parameters" in document):
            return detect_format([document])
        return None
    if not isinstance(document, list) or not document:
        return None
    items = [item for item in document if isinstance(item, dict)]
    if not items:
        return None
    if any("inputSchema" in item for item in items):
        return "mcp"
    if any(item.get("type") == "function" for item in items):
        return "openai"
    if any("question" in item and "function" in item for item in items):
        return "bfcl"
    if any("name" in item and "parameters" in item for item in items):
        return "bfcl" if any(_uses_bfcl_types(item.get("parameters")) for item in items) else "openai"
    return None


def _uses_bfcl_types(schema: Any, depth: int = 0) -> bool:
    if not isinstance(schema, dict) or depth > 16:
        return False
    if str(schema.get("type", "")).lower() in BFCL_ONLY_TYPES:
        return True
    props = schema.get("properties")
    return isinstance(props, dict) and any(_uses_bfcl_types(p, depth + 1) for p in props.values())


def _function_tool(fn: Any, file: str, pointer: str, bfcl: bool) -> ToolSpec:
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"].strip():
        raise ValueError("function without a string 'name'")
    params = fn.get("parameters", {"type": "object", "properties": {}})
    params = bfcl_schema(params) if bfcl else params
    if not is_object_schema(params):
        raise ValueError("'parameters' is not an object schema")
    check_schema_bounds(params)
    return ToolSpec(
        name=function_name(fn["name"]),
        description=str(fn.get("description") or ""),
        parameters={"type": "object", **params} if "type" not in params else params,
        source=f"{file}#{pointer}",
    )


def _load_items(items: list[Any], file: str, base: str, convert: Any) -> tuple[list[ToolSpec], list[LoadIssue]]:
    tools, issues = [], []
    for index, item in enumerate(items):
        pointer = f"{base}/{index}"
        try:
            tools.append(convert(item, pointer))
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            issues.append(LoadIssue(file=file, pointer=pointer, reason=str(exc) or type(exc).__name__))
    return tools, issues


def load_openai(document: Any, file: str) -> tuple[list[ToolSpec], list[LoadIssue]]:
    items, base = (document["tools"], "/tools") if isinstance(document, dict) else (document, "")

    def convert(item: Any, pointer: str) -> ToolSpec:
        if isinstance(item, dict) and item.get("type") == "function":
            return _function_tool(item.get("function"), file, f"{pointer}/function", bfcl=False)
        return _function_tool(item, file, pointer, bfcl=False)

    return _load_items(items if isinstance(items, list) else [items], file, base, convert)


def load_bfcl(document: Any, file: str) -> tuple[list[ToolSpec], list[LoadIssue]]:
    items = document if isinstance(document, list) else [document]
    if any(isinstance(i, dict) and "question" in i for i in items):  # BFCL data lines: collect their functions
        functions: dict[str, tuple[str, Any]] = {}
        for row, entry in enumerate(items):
            for col, fn in enumerate(entry.get("function", []) if isinstance(entry, dict) else []):
                name = fn.get("name") if isinstance(fn, dict) else None
                functions.setdefault(str(name) if name else f"{row}/{col}", (f"/{row}/function/{col}", fn))
        tools, issues = [], []
        for pointer, fn in functions.values():
            part_tools, part_issues = _load_items([fn], file, pointer, lambda f, p: _function_tool(f, file, p, True))
            tools += part_tools
            issues += [issue.model_copy(update={"pointer": pointer}) for issue in part_issues]
        return tools, issues
    return _load_items(items, file, "", lambda fn, p: _function_tool(fn, file, p, bfcl=True))


def load_mcp(document: Any, file: str) -> tuple[list[ToolSpec], list[LoadIssue]]:
    base = ""
    if isinstance(document, dict) and isinstance(document.get("result"), dict):
        document, base = document["result"], "/result"
    if isinstance(document, dict) and "tools" in document:
        items, base = document["tools"], f"{base}/tools"
    else:
        items = document if isinstance(document, list) else [document]

    def convert(item: Any, pointer: str) -> ToolSpec:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise ValueError("tool without a string 'name'")
        schema = item.get("inputSchema", {"type": "object", "properties": {}})
        if not is_object_schema(schema):
            raise ValueError("'inputSchema' is not an object schema")
        output = item.get("outputSchema") if isinstance(item.get("outputSchema"), dict) else None
        check_schema_bounds(schema, output)
        return ToolSpec(
            name=function_name(item["name"]),
            description=str(item.get("description") or item.get("title") or ""),
            parameters={"type": "object", **schema} if "type" not in schema else schema,
            output_schema=output,
            source=f"{file}#{pointer}",
        )

    return _load_items(items if isinstance(items, list) else [items], file, base, convert)


LOADERS = {"openapi": load_openapi, "openai": load_openai, "bfcl": load_bfcl, "mcp": load_mcp}


def load_file(path: Path, fmt: str = "auto") -> tuple[str | None, list[ToolSpec], list[LoadIssue]]:
    """One file → (format, tools, issues). Never raises for bad content."""
    file = str(path)
    try:
        document = read_document(path)
    except (OSError, ValueError) as exc:
        return None, [], [LoadIssue(file=file, reason=str(exc))]
    detected = detect_format(document) if fmt == "auto" else fmt
    if detected is None:
        reason = "unrecognized spec format (expected OpenAPI 3.x, OpenAI tools, BFCL functions or MCP tools/list)"
        return None, [], [LoadIssue(file=file, reason=reason)]
    if detected == "openapi" and isinstance(document, dict) and "swagger" in document:
        reason = "Swagger 2.0 is not supported: convert it to OpenAPI 3 first (e.g. with swagger2openapi)"
        return detected, [], [LoadIssue(file=file, pointer="/swagger", reason=reason)]
    try:
        tools, issues = LOADERS[detected](document, file)
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
        return detected, [], [LoadIssue(file=file, reason=f"cannot read as {detected}: {exc or type(exc).__name__}")]
    if not tools and not issues:
        issues = [LoadIssue(file=file, reason=f"no tools found in this {detected} document")]
    return detected, tools, issues


@dataclass
class FileLoad:
    """What one file gave: its format, tools, issues, and how many operations it declared."""

    file: str
    format: str | None
    tools: list[ToolSpec]
    issues: list[LoadIssue]
    operations: int


def load_file_counted(path: Path, fmt: str = "auto") -> FileLoad:
    detected, tools, issues = load_file(path, fmt)
    operations = len(tools) + sum(1 for i in issues if i.pointer.count("/") >= 2 and i.pointer.startswith("/paths/"))
    return FileLoad(str(path), detected, tools, issues, operations)


def load_many(files: list[Path], fmt: str = "auto", workers: int | None = None) -> Iterator[FileLoad]:
    """Load many files in worker processes (in order); `workers=1` stays in this process."""
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(files) < 2:
        yield from (load_file_counted(f, fmt) for f in files)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(load_file_counted, files, [fmt] * len(files), chunksize=4)


def spec_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix.lower() in SPEC_SUFFIXES and p.is_file())
    return [path]


def load_toolset(name: str, path: Path, fmt: str = "auto", workers: int | None = 1) -> Toolset:
    """A file or a folder of files → one Toolset; duplicate tool names get `_2`, `_3`, …"""
    formats: list[str] = []
    tools: list[ToolSpec] = []
    issues: list[LoadIssue] = []
    if not path.exists():
        issues.append(LoadIssue(file=str(path), reason="no such file or folder"))
    files = spec_files(path) if path.exists() else []
    for loaded in load_many(files, fmt, workers if len(files) > 8 else 1):
        if loaded.format and loaded.format not in formats:
            formats.append(loaded.format)
        tools += loaded.tools
        issues += loaded.issues
    names = unique_names([tool.name for tool in tools])
    tools = [t if t.name == n else t.model_copy(update={"name": n}) for t, n in zip(tools, names, strict=True)]
    return Toolset(
        name=name, source=str(path), source_format="+".join(formats) or "unknown", tools=tools, issues=issues
    )
