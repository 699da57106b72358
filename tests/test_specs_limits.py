"""Size and depth caps for every spec format: an alias bomb, a huge or deep tool schema, or a file nested
past the parser's recursion limit is one `LoadIssue` for that file or tool, and the rest still loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inftool.specs import load_file, load_toolset
from inftool.specs.normalize import MAX_SCHEMA_NODES

GOOD = [{"type": "function", "function": {"name": "ok", "parameters": {"type": "object", "properties": {}}}}]


def laughs(levels: int = 9, width: int = 9) -> str:
    """YAML anchors each aliasing the one before `width` times: `*a{levels - 1}` stands for width**levels leaves."""
    first = f"a0: &a0 [{', '.join(['lol'] * width)}]\n"
    return first + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]\n" for i in range(1, levels))


WIDE_CYCLE = f"loop: &loop [{', '.join(['*loop'] * 1000)}]\n"  # a list holding itself 1000 times
BOMBS = {
    "mcp": "tools:\n  - name: laugh\n    inputSchema: {type: object, properties: {p: {type: string, enum: *a8}}}\n",
    "openai": "tools:\n  - type: function\n    function: {name: laugh, parameters: {type: object, enum: [*a8]}}\n",
    "cycle": "tools:\n  - name: laugh\n    inputSchema: {type: object, properties: {p: {type: string, enum: *loop}}}\n",
}


@pytest.mark.parametrize("fmt", sorted(BOMBS))
def test_yaml_alias_bomb_is_one_issue_and_the_folder_still_loads(tmp_path: Path, fmt: str):
    (tmp_path / "bomb.yaml").write_text((WIDE_CYCLE if fmt == "cycle" else laughs()) + BOMBS[fmt])  # 9**9 leaves
    (tmp_path / "good.json").write_text(json.dumps(GOOD))
    toolset = load_toolset("t", tmp_path)
    assert [tool.name for tool in toolset.tools] == ["ok"]
    assert len(toolset.issues) == 1
    issue = toolset.issues[0]
    assert Path(issue.file).name == "bomb.yaml" and "alias" in issue.reason


def test_modest_yaml_anchor_reuse_still_loads(tmp_path: Path):
    path = tmp_path / "shared.yaml"
    path.write_text(
        "common: &s {type: string, description: shared}\n"
        "tools:\n  - {name: a, inputSchema: {type: object, properties: {x: *s, y: *s}}}\n"
    )
    _fmt, tools, issues = load_file(path)
    assert not issues and tools[0].parameters["properties"]["y"]["description"] == "shared"


def wide(type_name: str = "object", props: int = MAX_SCHEMA_NODES // 2 + 10) -> dict[str, Any]:
    """An object schema of over MAX_SCHEMA_NODES nodes, written out in full (no aliases)."""
    return {"type": type_name, "properties": {f"p{i}": {"type": "string"} for i in range(props)}}


def deep(levels: int, type_name: str = "object") -> dict[str, Any]:
    """An object schema nested 2 * `levels` deep: shallow enough to parse, far deeper than any real schema."""
    node: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        node = {"type": type_name, "properties": {"a": node}}
    return node


def tool_list(fmt: str, schemas: list[dict[str, Any]], output: dict[str, Any] | None = None) -> Any:
    small = {"type": "object", "properties": {}}
    if fmt == "openai":
        return [{"type": "function", "function": {"name": f"t{i}", "parameters": s}} for i, s in enumerate(schemas)]
    if fmt == "bfcl":
        return [{"name": f"t{i}", "parameters": {**s, "type": "dict"}} for i, s in enumerate(schemas)]
    tools = [{"name": f"t{i}", "inputSchema": s} for i, s in enumerate(schemas)]
    if output is not None:  # the first tool's inputs are small, its output schema is not
        tools[0] = {"name": "t0", "inputSchema": small, "outputSchema": output}
    return {"tools": tools}


CASES = {
    "openai": ("openai", "/0"),
    "bfcl": ("bfcl", "/0"),
    "mcp": ("mcp", "/tools/0"),
}


@pytest.mark.parametrize("case", [*CASES, "mcp-output"])
def test_each_tool_schema_is_size_capped(tmp_path: Path, case: str):
    fmt, pointer = CASES[case.split("-")[0]]
    small = {"type": "object", "properties": {"q": {"type": "string"}}}
    document = tool_list(fmt, [wide(), small], output=wide() if case == "mcp-output" else None)
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(document))
    detected, tools, issues = load_file(path)
    assert detected == fmt and [tool.name for tool in tools] == ["t1"]
    assert [(i.file, i.pointer) for i in issues] == [(str(path), pointer)]
    assert issues[0].reason.startswith("schema too large")


@pytest.mark.parametrize("fmt", sorted(CASES))
def test_deep_schema_that_parses_is_one_issue_per_tool(tmp_path: Path, fmt: str):
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(tool_list(fmt, [deep(300), deep(3)])))  # 600 levels: json.loads copes
    detected, tools, issues = load_file(path)
    assert detected == fmt and [tool.name for tool in tools] == ["t1"]
    assert len(issues) == 1 and issues[0].pointer == CASES[fmt][1] and "nested deeper than" in issues[0].reason
    json.dumps(tools[0].parameters)  # what loads stays shallow enough to serialize


DEEP_FILES = {
    "list.json": "[" * 100_000 + "]" * 100_000,
    "object.json": '{"a": ' * 100_000 + "1" + "}" * 100_000,
    "lines.jsonl": json.dumps(GOOD[0]) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n",
    "flow.yaml": "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
}


@pytest.mark.parametrize("workers", [1, 2])
def test_file_nested_past_the_parser_is_one_issue(tmp_path: Path, workers: int):
    for name, text in DEEP_FILES.items():
        (tmp_path / f"deep_{name}").write_text(text)
    for i in range(9):  # over 8 files: `workers=2` loads them in the process pool
        (tmp_path / f"good{i}.json").write_text(json.dumps(GOOD))
    toolset = load_toolset("t", tmp_path, workers=workers)
    assert len(toolset.tools) == 9
    by_file = {Path(issue.file).name: issue.reason for issue in toolset.issues}
    assert sorted(by_file) == sorted(f"deep_{name}" for name in DEEP_FILES) and len(toolset.issues) == len(by_file)
    for name in ("deep_list.json", "deep_object.json", "deep_lines.jsonl"):
        assert "nested too deeply" in by_file[name]
