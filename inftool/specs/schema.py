"""Validating call arguments against a tool's JSON Schema; validators are compiled once per schema."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jsonschema

from inftool.specs.records import ToolSpec


@lru_cache(maxsize=4096)
def _validator(schema_json: str) -> jsonschema.protocols.Validator:
    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validation_error(tool: ToolSpec, arguments: Any) -> str | None:
    """The first schema violation as 'where: what', or None when the call is valid."""
    if not isinstance(arguments, dict):
        return f"arguments must be a JSON object, got {type(arguments).__name__}"
    try:
        error = next(iter(_validator(json.dumps(tool.parameters, sort_keys=True)).iter_errors(arguments)), None)
    except jsonschema.SchemaError as exc:
        return f"the tool's own schema is invalid: {exc.message}"
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "arguments"
    return f"{where}: {error.message}"
