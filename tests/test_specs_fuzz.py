"""Hundreds of malformed spec documents: never an unhandled exception, always tools or reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inftool.specs import load_file
from inftool.specs import loaders as loaders_module

EXAMPLE = (Path(__file__).resolve().parents[1] / "recipes" / "specs" / "travel.openapi.yaml").read_text()
EXAMPLE_DOC = yaml.safe_load(EXAMPLE)

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
json_trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
refs = st.sampled_from(
    ["#/components/schemas/Flight", "#/nope/x", "#/components/schemas/Loop", "other.yaml#/a", "#", "#/paths", "%%%"]
)


def check(path: Path) -> None:
    _fmt, tools, issues = load_file(path)
    assert tools or issues, "a document must give tools or reasons"
    for issue in issues:
        assert issue.file == str(path) and issue.reason
    for tool in tools:
        json.dumps(tool.parameters)  # finite, serializable
        assert tool.parameters.get("type") == "object"


settings_ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings_
@given(cut=st.integers(min_value=0, max_value=len(EXAMPLE)))
def test_truncated_yaml(tmp_path: Path, cut: int):
    path = tmp_path / "spec.yaml"
    path.write_text(EXAMPLE[:cut])
    check(path)


def _set(doc, pointer: list[str], value):
    node = doc
    for key in pointer[:-1]:
        node = node[key] if isinstance(node, dict) and key in node else None
        if node is None:
            return
    if isinstance(node, dict):
        node[pointer[-1]] = value


POINTERS = [
    ["paths"], ["paths", "/flights"], ["paths", "/flights", "get"], ["paths", "/flights", "get", "parameters"],
    ["paths", "/bookings", "post", "requestBody"], ["paths", "/bookings", "post", "requestBody", "content"],
    ["components"], ["components", "schemas"], ["components", "schemas", "Flight"], ["openapi"],
    ["paths", "/flights/{flightId}", "parameters"], ["components", "parameters", "Origin"],
]  # fmt: skip


@settings_
@given(edits=st.lists(st.tuples(st.sampled_from(POINTERS), json_trees), min_size=1, max_size=4), as_json=st.booleans())
def test_wrong_types_anywhere(tmp_path: Path, edits, as_json: bool):
    doc = json.loads(json.dumps(EXAMPLE_DOC))
    for pointer, value in edits:
        _set(doc, pointer, value)
    path = tmp_path / ("spec.json" if as_json else "spec.yaml")
    path.write_text(json.dumps(doc) if as_json else yaml.safe_dump(doc))
    check(path)


@settings_
@given(ref=refs, where=st.sampled_from(POINTERS[2:6] + POINTERS[8:9]))
def test_dangling_and_recursive_refs(tmp_path: Path, ref: str, where):
    doc = json.loads(json.dumps(EXAMPLE_DOC))
    doc["components"]["schemas"]["Loop"] = {"$ref": "#/components/schemas/Loop"}
    _set(doc, where, {"$ref": ref})
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(doc))
    check(path)


@settings_
@given(doc=json_trees, name=st.sampled_from(["a.json", "a.yaml", "a.jsonl"]))
def test_arbitrary_documents(tmp_path: Path, doc, name: str):
    path = tmp_path / name
    path.write_text(json.dumps(doc) if name != "a.yaml" else yaml.safe_dump(doc))
    check(path)


@settings_
@given(tools=st.lists(json_trees, min_size=1, max_size=5), wrapper=st.sampled_from(["openai", "mcp", "bfcl"]))
def test_malformed_tool_lists(tmp_path: Path, tools, wrapper: str):
    doc = {
        "openai": lambda: [{"type": "function", "function": t} for t in tools],
        "mcp": lambda: {"tools": [{"name": "x", "inputSchema": t} for t in tools]},
        "bfcl": lambda: [{"name": "x", "parameters": {"type": "dict", "properties": t}} for t in tools],
    }[wrapper]()
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(doc))
    check(path)


def test_yaml_alias_bomb_and_cycle(tmp_path: Path):
    bomb = (
        "openapi: 3.0.0\npaths:\n  /x:\n    post:\n      requestBody:\n        content:\n          application/json:\n"
    )
    bomb += "            schema: &a0 {type: object, properties: {p: {type: string}}}\n"
    lines = "".join(f"x{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n" for i in range(1, 25))
    path = tmp_path / "bomb.yaml"
    path.write_text(
        bomb + lines + "      parameters:\n        - {name: q, in: query, schema: {type: object, default: *a24}}\n"
    )
    check(path)
    cycle = tmp_path / "cycle.yaml"
    cycle.write_text(
        "openapi: 3.0.0\npaths:\n  /x:\n    get:\n      parameters: &p\n        - {name: q, in: query, schema: *p}\n"
    )
    check(cycle)


def test_huge_file_is_refused_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(loaders_module, "MAX_FILE_BYTES", 1024)
    path = tmp_path / "huge.json"
    path.write_text(json.dumps({"openapi": "3.0.0", "paths": {f"/p{i}": {"get": {}} for i in range(200)}}))
    _fmt, tools, issues = load_file(path)
    assert not tools and "limit" in issues[0].reason


def test_large_real_size_file_loads(tmp_path: Path):
    doc = {"openapi": "3.0.0", "paths": {f"/items{i}/{{id}}": {"get": {"parameters": [
        {"name": "id", "in": "path", "schema": {"type": "string"}}]}} for i in range(20_000)}}  # fmt: skip
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    _fmt, tools, issues = load_file(path)
    assert len(tools) == 20_000 and not issues
