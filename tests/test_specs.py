"""Spec ingestion: each format, $ref handling, partial loads, names."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from inftool.specs import detect_format, load_file, load_toolset
from inftool.specs.normalize import function_name, unique_names

SPECS = Path(__file__).resolve().parents[1] / "recipes" / "specs"


def write(tmp_path: Path, name: str, document) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document) if name.endswith(".json") else yaml.safe_dump(document))
    return path


def test_openapi_example_merges_parameters_and_body():
    toolset = load_toolset("travel", SPECS / "travel.openapi.yaml")
    assert toolset.source_format == "openapi" and not toolset.issues
    names = [t.name for t in toolset.tools]
    assert names == ["searchFlights", "getFlight", "createBooking", "getBooking", "cancelBooking", "searchHotels"]
    search = toolset.tool("searchFlights").parameters
    assert search["required"] == ["origin", "destination", "date"]
    assert search["properties"]["origin"]["pattern"] == "^[A-Z]{3}$"  # $ref parameter → $ref schema
    assert search["properties"]["cabin"]["enum"][0] == "economy"
    booking = toolset.tool("createBooking").parameters
    assert booking["required"] == ["flight_id", "passenger"]  # body props join the top level
    assert booking["properties"]["passenger"]["required"] == ["first_name", "last_name"]
    cancel = toolset.tool("cancelBooking").parameters
    assert set(cancel["properties"]) == {"bookingId", "reason"} and cancel["required"] == ["bookingId"]
    assert toolset.tool("getFlight").output_schema["properties"]["seats_left"]["type"] == "integer"
    for tool in toolset.tools:  # every merged schema is a valid JSON Schema
        jsonschema.Draft202012Validator.check_schema(tool.parameters)


def test_openai_and_mcp_examples():
    finance = load_toolset("finance", SPECS / "finance.openai.json")
    assert finance.source_format == "openai" and len(finance.tools) == 4
    assert finance.tool("transfer_funds").parameters["properties"]["currency"]["enum"] == ["USD", "EUR", "GBP", "JPY"]
    workspace = load_toolset("workspace", SPECS / "workspace.mcp.json")
    assert workspace.source_format == "mcp" and len(workspace.tools) == 5
    assert workspace.tool("read_file").output_schema["properties"]["content"]["type"] == "string"


def test_openapi_31_json_with_names_from_method_and_path(tmp_path: Path):
    doc = {
        "openapi": "3.1.0",
        "paths": {
            "/v1/users/{user-id}/posts": {
                "get": {"parameters": [{"name": "user-id", "in": "path", "schema": {"type": ["string", "null"]}}]},
                "post": {
                    "operationId": "create post!",
                    "requestBody": {"content": {"application/json": {"schema": {"type": "array", "items": {}}}}},
                },
            }
        },
    }
    tools, issues = load_file(write(tmp_path, "api.json", doc))[1:]
    assert not issues
    assert [t.name for t in tools] == ["get_v1_users_user_id_posts", "create_post"]
    assert tools[0].parameters["required"] == ["user-id"]
    assert tools[1].parameters["properties"]["body"]["type"] == "array"


def test_recursive_ref_is_cut_not_hung(tmp_path: Path):
    doc = {
        "openapi": "3.0.0",
        "paths": {"/tree": {"post": {"operationId": "addNode", "requestBody": {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}}}}},
        "components": {"schemas": {"Node": {"type": "object", "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}}},
    }  # fmt: skip
    tools, issues = load_file(write(tmp_path, "tree.yaml", doc))[1:]
    assert not issues
    depth, node = 0, tools[0].parameters
    while "children" in node.get("properties", {}):
        node, depth = node["properties"]["children"]["items"], depth + 1
    assert 1 <= depth <= 6 and "cut at $ref" in node["description"]


def test_one_bad_operation_never_sinks_the_file(tmp_path: Path):
    doc = {
        "openapi": "3.0.0",
        "paths": {
            "/ok": {"get": {"operationId": "ok"}},
            "/dangling": {"get": {"operationId": "bad", "parameters": [{"$ref": "#/components/parameters/Nope"}]}},
            "/weird": {"post": "not an object"},
            "/other": {"delete": {"operationId": "alsoOk"}},
        },
    }
    tools, issues = load_file(write(tmp_path, "mixed.yaml", doc))[1:]
    assert [t.name for t in tools] == ["ok", "alsoOk"]
    pointers = {i.pointer: i.reason for i in issues}
    assert "dangling $ref '#/components/parameters/Nope'" in pointers["/paths/~1dangling/get"]
    assert "not an object" in pointers["/paths/~1weird/post"]
    assert all(i.file.endswith("mixed.yaml") for i in issues)


def test_bfcl_types_are_normalized(tmp_path: Path):
    functions = [{"name": "calc.area", "description": "d", "parameters": {"type": "dict", "properties": {
        "base": {"type": "float"}, "dims": {"type": "tuple", "items": {"type": "integer"}},
        "extra": {"type": "any"}, "opts": {"type": "dict", "properties": {"x": {"type": "float"}}}},
        "required": ["base"]}}]  # fmt: skip
    path = write(tmp_path, "bfcl.json", functions)
    fmt, tools, issues = load_file(path)
    assert fmt == "bfcl" and not issues
    params = tools[0].parameters
    assert tools[0].name == "calc_area" and params["type"] == "object"
    assert params["properties"]["base"]["type"] == "number"
    assert params["properties"]["dims"]["type"] == "array" and params["properties"]["dims"]["x-bfcl-type"] == "tuple"
    assert "type" not in params["properties"]["extra"]
    assert params["properties"]["opts"]["properties"]["x"]["type"] == "number"
    jsonschema.Draft202012Validator.check_schema(params)


def test_bfcl_jsonl_data_lines(tmp_path: Path):
    lines = [
        {"id": "simple_0", "question": [[{"role": "user", "content": "q"}]],
         "function": [{"name": "f", "parameters": {"type": "dict", "properties": {}}}]},
        {"id": "simple_1", "question": [[{"role": "user", "content": "q"}]],
         "function": [{"name": "f", "parameters": {"type": "dict", "properties": {}}},
                      {"name": "g", "parameters": {"type": "dict", "properties": {"a": {"type": "float"}}}}]},
    ]  # fmt: skip
    path = tmp_path / "BFCL_v4_simple.json"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    fmt, tools, issues = load_file(path)
    assert fmt == "bfcl" and [t.name for t in tools] == ["f", "g"] and not issues


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"openapi": "3.0.0", "paths": {}}, "openapi"),
        ([{"type": "function", "function": {"name": "a", "parameters": {}}}], "openai"),
        ({"tools": [{"type": "function", "function": {"name": "a"}}]}, "openai"),
        ({"tools": [{"name": "a", "inputSchema": {"type": "object"}}]}, "mcp"),
        ({"jsonrpc": "2.0", "id": 1, "result": {"tools": [{"name": "a", "inputSchema": {}}]}}, "mcp"),
        ([{"name": "a", "parameters": {"type": "dict", "properties": {}}}], "bfcl"),
        ([{"name": "a", "parameters": {"type": "object", "properties": {}}}], "openai"),
        ({"hello": "world"}, None),
        (42, None),
    ],
)
def test_format_detection(document, expected):
    assert detect_format(document) == expected


def test_unreadable_files_are_one_clear_issue(tmp_path: Path):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "swagger.yaml").write_text("swagger: '2.0'\npaths: {}\n")
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "nopaths.yaml").write_text("openapi: 3.0.0\ninfo: {title: x}\n")
    toolset = load_toolset("mixed", tmp_path)
    reasons = {Path(i.file).name: i.reason for i in toolset.issues}
    assert reasons["bad.json"].startswith("invalid JSON")
    assert "Swagger 2.0" in reasons["swagger.yaml"]
    assert "UTF-8" in reasons["bin.yaml"]
    assert reasons["nopaths.yaml"] == "no 'paths' object"
    assert toolset.tools == []


def test_duplicate_names_become_unique_deterministically(tmp_path: Path):
    tool = {"type": "function", "function": {"name": "search", "parameters": {"type": "object", "properties": {}}}}
    write(tmp_path, "a.json", [tool, tool])
    write(tmp_path, "b.json", [tool, {**tool, "function": {**tool["function"], "name": "search_2"}}])
    names = [t.name for t in load_toolset("dups", tmp_path).tools]
    assert names == ["search", "search_3", "search_4", "search_2"]
    assert names == [t.name for t in load_toolset("dups", tmp_path).tools]


def test_function_name_sanitizing():
    assert function_name("get /users/{id}") == "get_users_id"
    assert function_name("123start") == "op_123start"
    assert function_name("ümlaut-ok") == "mlaut_ok"
    assert len(function_name("x" * 200)) == 64
    assert unique_names(["a", "a", "a_2"]) == ["a", "a_3", "a_2"]
