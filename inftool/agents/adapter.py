"""`SchemaAdapter`: DSPy's JSONAdapter whose output schema can be narrowed per call.

`predict(..., config={"field_schemas": {"arguments": tool_schema}})` makes the LM's output a
JSON object whose `arguments` field must match `tool_schema` (and every string field is
length-bounded), which is what lets even a 135M model return valid structure. The prompt still
comes from the Signature, so its instructions stay optimizable.
"""

from __future__ import annotations

import functools
from typing import Any

import dspy
from pydantic import TypeAdapter

from inftool.lm.constrained import bound_schema

MAX_TEXT = 400


def _field_schema(annotation: Any) -> dict[str, Any]:
    try:
        return _cached_field_schema(annotation)  # shared: never edited, only serialized
    except TypeError:  # an unhashable annotation
        return _cached_field_schema.__wrapped__(annotation)


@functools.lru_cache(maxsize=256)  # building a TypeAdapter costs more than the rest of a call's formatting
def _cached_field_schema(annotation: Any) -> dict[str, Any]:
    if annotation is str:
        return {"type": "string", "maxLength": MAX_TEXT}
    try:
        schema = TypeAdapter(annotation).json_schema()
    except Exception:  # exotic annotations: any JSON value
        return {}
    return bound_schema(schema)


def output_schema(signature: type[dspy.Signature], overrides: dict[str, Any]) -> dict[str, Any]:
    fields = signature.output_fields
    properties = {name: bound_schema(overrides[name]) if name in overrides else _field_schema(f.annotation)
                  for name, f in fields.items()}  # fmt: skip
    return {"type": "object", "properties": properties, "required": list(fields), "additionalProperties": False}


@functools.lru_cache(maxsize=256)
def _system_message(adapter: type[dspy.JSONAdapter], signature: type[dspy.Signature], instructions: str) -> str:
    return dspy.JSONAdapter.format_system_message(adapter(), signature)


class SchemaAdapter(dspy.JSONAdapter):
    def format_system_message(self, signature: type[dspy.Signature]) -> str:
        """DSPy's system message, built once per Signature (~0.5 ms each time otherwise). An optimizer
        that changes the instructions makes a new Signature; the instructions are in the key too."""
        return _system_message(type(self), signature, signature.instructions)

    def _prepare_response_format(self, lm: Any, lm_kwargs: dict[str, Any], signature: type[dspy.Signature]) -> None:
        overrides = lm_kwargs.pop("field_schemas", None) or {}
        schema = output_schema(signature, overrides)
        lm_kwargs["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}
