"""OpenAPI 3.0 / 3.1 → one `ToolSpec` per operation.

Path, query and header parameters and the request body merge into one `parameters` object
schema. `$ref`s are inlined with memoization, so shared components are built once and shared;
a chain of nested refs deeper than `max_ref_depth` (which is how recursive schemas show up) is
cut to a described placeholder, so nothing ever hangs. Each operation converts inside its own
try-block: a broken one becomes a `LoadIssue` and the rest of the file still loads.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from inftool.specs.normalize import MAX_NESTING, check_schema_bounds, function_name
from inftool.specs.records import LoadIssue, ToolSpec

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
SKIPPED_HEADERS = {"authorization", "accept", "content-type", "user-agent"}  # transport, not arguments
MAX_DESCRIPTION = 1024


class SpecError(ValueError):
    """A problem inside one part of a spec; becomes a LoadIssue for that part."""


def pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class RefResolver:
    """Inlines local `$ref`s (`#/...`). Results are memoized per (node, remaining ref depth)."""

    def __init__(self, document: dict[str, Any], max_ref_depth: int = 4) -> None:
        self.document = document
        self.max_ref_depth = max_ref_depth
        self._memo: dict[tuple[int, int], Any] = {}

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise SpecError(f"external $ref '{ref}' is not supported (bundle the spec first)")
        node: Any = self.document
        for raw in ref[1:].lstrip("/").split("/") if ref != "#" else []:
            token = unquote(raw).replace("~1", "/").replace("~0", "~")  # a URI fragment: %-encoded
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise SpecError(f"dangling $ref '{ref}'")
        return node

    def resolve(self, node: Any, ref_depth: int = 0, nesting: int = 0) -> Any:
        if nesting > MAX_NESTING:
            raise SpecError(f"schema nested deeper than {MAX_NESTING} levels (a cyclic structure?)")
        if not isinstance(node, dict | list):
            return node
        key = (id(node), ref_depth)
        if key in self._memo:
            return self._memo[key]
        if isinstance(node, list):
            out: Any = [self.resolve(item, ref_depth, nesting + 1) for item in node]
        elif isinstance(node.get("$ref"), str):
            out = self._resolve_ref(node, ref_depth, nesting)
        else:
            out = {k: self.resolve(v, ref_depth, nesting + 1) for k, v in node.items()}
        self._memo[key] = out
        return out

    def _resolve_ref(self, node: dict[str, Any], ref_depth: int, nesting: int) -> Any:
        ref = node["$ref"]
        if ref_depth >= self.max_ref_depth:
            name = ref.rsplit("/", 1)[-1]
            return {"type": "object", "description": f"{name} (nested too deep; cut at $ref {ref})"}
        target = self.resolve(self.lookup(ref), ref_depth + 1, nesting + 1)
        siblings = {k: v for k, v in node.items() if k != "$ref"}  # 3.1 allows e.g. description beside $ref
        if siblings and isinstance(target, dict):
            return {**target, **{k: self.resolve(v, ref_depth, nesting + 1) for k, v in siblings.items()}}
        return target


def load_openapi(document: dict[str, Any], file: str, max_ref_depth: int = 4) -> tuple[list[ToolSpec], list[LoadIssue]]:
    version = str(document.get("openapi", ""))
    if not version.startswith("3."):
        return [], [LoadIssue(file=file, pointer="/openapi", reason=f"OpenAPI version {version!r} is not 3.x")]
    paths = document.get("paths")
    if not isinstance(paths, dict):
        reason = "no 'paths' object" if paths is None else f"'paths' is a {type(paths).__name__}, not an object"
        return [], [LoadIssue(file=file, pointer="/paths", reason=reason)]
    resolvers = {depth: RefResolver(document, depth) for depth in range(max_ref_depth, 0, -1)}
    resolver = resolvers[max_ref_depth]
    tools: list[ToolSpec] = []
    issues: list[LoadIssue] = []
    for path, path_item in paths.items():
        base = f"/paths/{pointer_escape(str(path))}"
        try:
            if isinstance(path_item, dict) and "$ref" in path_item:  # only a whole-item ref here; ops resolve their own
                path_item = resolver.resolve(path_item)
            if not isinstance(path_item, dict):
                raise SpecError(f"path item is a {type(path_item).__name__}, not an object")
        except (SpecError, RecursionError) as exc:
            issues.append(LoadIssue(file=file, pointer=base, reason=str(exc) or type(exc).__name__))
            continue
        for method in METHODS:
            if method not in path_item:
                continue
            pointer = f"{base}/{method}"
            try:
                tools.append(_bounded_tool(resolvers, str(path), method, path_item, file, pointer))
            except (SpecError, RecursionError, TypeError, AttributeError, ValueError) as exc:
                issues.append(LoadIssue(file=file, pointer=pointer, reason=str(exc) or type(exc).__name__))
    return tools, issues


def _bounded_tool(
    resolvers: dict[int, RefResolver], path: str, method: str, path_item: dict[str, Any], file: str, pointer: str
) -> ToolSpec:
    """The tool with the deepest ref expansion whose schemas stay within the shared size and nesting caps
    (memoized refs can nest a shared schema deeper than it was resolved, so the depth is checked here too)."""
    reason = ""
    for resolver in resolvers.values():
        tool = _operation_tool(resolver, path, method, path_item, file, pointer)
        try:
            check_schema_bounds(tool.parameters, tool.output_schema)
            return tool
        except ValueError as exc:
            reason = str(exc)
    raise SpecError(f"{reason} even with $refs cut at depth 1")


def _operation_tool(
    resolver: RefResolver, path: str, method: str, path_item: dict[str, Any], file: str, pointer: str
) -> ToolSpec:
    operation = path_item[method]
    if not isinstance(operation, dict):
        raise SpecError(f"operation is a {type(operation).__name__}, not an object")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in _merged_parameters(resolver, path_item, operation):
        name, location = param["name"], param["in"]
        if location == "cookie" or (location == "header" and name.lower() in SKIPPED_HEADERS):
            continue
        properties[name] = _parameter_schema(resolver, param)
        if param.get("required") or location == "path":
            required.append(name)
    _merge_request_body(resolver, operation.get("requestBody"), properties, required)
    raw_name = operation.get("operationId")
    name = function_name(raw_name if isinstance(raw_name, str) and raw_name.strip() else f"{method}_{path}")
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = list(dict.fromkeys(required))
    return ToolSpec(
        name=name,
        description=_description(operation, method, path),
        parameters=parameters,
        output_schema=_output_schema(resolver, operation.get("responses")),
        source=f"{file}#{pointer}",
    )


def _merged_parameters(resolver: RefResolver, path_item: dict[str, Any], operation: dict[str, Any]) -> list[dict]:
    """Path-level parameters, overridden by operation-level ones with the same (name, in)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for level in (path_item.get("parameters"), operation.get("parameters")):
        if level is None:
            continue
        if not isinstance(level, list):
            raise SpecError(f"'parameters' is a {type(level).__name__}, not a list")
        for raw in level:
            param = resolver.resolve(raw)
            if not isinstance(param, dict) or not isinstance(param.get("name"), str) or "in" not in param:
                raise SpecError(f"parameter without 'name'/'in': {str(raw)[:80]}")
            merged[(param["name"], str(param["in"]))] = param
    return list(merged.values())


def _parameter_schema(resolver: RefResolver, param: dict[str, Any]) -> dict[str, Any]:
    schema = param.get("schema")
    if schema is None and isinstance(param.get("content"), dict):  # `content` instead of `schema`
        media = next(iter(param["content"].values()), None)
        schema = media.get("schema") if isinstance(media, dict) else None
    schema = resolver.resolve(schema) if isinstance(schema, dict) else {"type": "string"}
    if not isinstance(schema, dict):
        raise SpecError(f"schema of parameter '{param['name']}' is not an object")
    if param.get("description") and "description" not in schema:
        schema = {**schema, "description": str(param["description"])[:MAX_DESCRIPTION]}
    return schema


def _body_media(content: Any) -> dict[str, Any] | None:
    if not isinstance(content, dict):
        return None
    ranked = sorted(
        (media_type for media_type in content if isinstance(media_type, str)),
        key=lambda t: 0 if "json" in t else 1 if "form" in t else 2,
    )
    for media_type in ranked:
        media = content[media_type]
        if isinstance(media, dict) and isinstance(media.get("schema"), dict):
            return media["schema"]
    return None


def _merge_request_body(resolver: RefResolver, body: Any, properties: dict[str, Any], required: list[str]) -> None:
    """An object body's properties join the top level (renamed `body_<name>` on a clash);
    any other body becomes one `body` argument."""
    if body is None:
        return
    body = resolver.resolve(body)
    if not isinstance(body, dict):
        raise SpecError("requestBody is not an object")
    schema = _body_media(body.get("content"))
    if schema is None:
        return
    schema = resolver.resolve(schema)
    body_required = bool(body.get("required"))
    props = schema.get("properties") if isinstance(schema, dict) else None
    if isinstance(props, dict) and props:
        inner_required = schema.get("required") if isinstance(schema.get("required"), list) else []
        for prop, prop_schema in props.items():
            name = f"body_{prop}" if prop in properties else str(prop)
            properties[name] = prop_schema
            if body_required and prop in inner_required:
                required.append(name)
    else:
        name = "body" if "body" not in properties else "request_body"
        properties[name] = schema
        if body_required:
            required.append(name)


def _output_schema(resolver: RefResolver, responses: Any) -> dict[str, Any] | None:
    if not isinstance(responses, dict):
        return None
    for code in ("200", "201", "202", "2XX", "2xx", "default"):
        response = responses.get(code, responses.get(int(code)) if code.isdigit() else None)
        if response is None:
            continue
        response = resolver.resolve(response)
        schema = _body_media(response.get("content")) if isinstance(response, dict) else None
        if schema is not None:
            resolved = resolver.resolve(schema)
            return resolved if isinstance(resolved, dict) else None
    return None


def _description(operation: dict[str, Any], method: str, path: str) -> str:
    parts = [str(operation[k]).strip() for k in ("summary", "description") if operation.get(k)]
    text = ". ".join(p.rstrip(".") for p in parts if p) or f"{method.upper()} {path}"
    return text[:MAX_DESCRIPTION]
