"""`SchemaAdapter`: DSPy's JSONAdapter whose output schema can be narrowed per call.

`predict(..., config={"field_schemas": {"arguments": tool_schema}})` makes the LM's output a
JSON object whose `arguments` field must match `tool_schema` (and every string field is
length-bounded), which is what lets even a 135M model return valid structure. The prompt still
comes from the Signature, so its instructions stay optimizable.
"""

from __future__ import annotations

import enum
import functools
import json
from typing import Any, Literal, get_origin

import dspy
from dspy.adapters.utils import apply_output_field_defaults
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
def _type_adapter(annotation: Any) -> TypeAdapter:
    return TypeAdapter(annotation)


@functools.lru_cache(maxsize=256)
def _system_message(adapter: type[dspy.JSONAdapter], signature: type[dspy.Signature], instructions: str) -> str:
    return dspy.JSONAdapter.format_system_message(adapter(), signature)


class SchemaAdapter(dspy.JSONAdapter):
    def format_system_message(self, signature: type[dspy.Signature]) -> str:
        """DSPy's system message, built once per Signature (~0.5 ms each time otherwise). An optimizer
        that changes the instructions makes a new Signature; the instructions are in the key too."""
        return _system_message(type(self), signature, signature.instructions)

    def format_user_message_content(
        self,
        signature: type[dspy.Signature],
        inputs: dict[str, Any],
        prefix: str = "",
        suffix: str = "",
        main_request: bool = False,
    ) -> str:
        """ChatAdapter's, with text inputs (all our agents send) put in as they are: DSPy's formatting
        gives the same text, after building a pydantic TypeAdapter per value (two thirds of its cost)."""
        fields = [k for k in signature.input_fields if k in inputs]
        if not all(type(inputs[k]) is str for k in fields):
            return super().format_user_message_content(signature, inputs, prefix, suffix, main_request)
        messages = [prefix, *(f"[[ ## {k} ## ]]\n{inputs[k]}" for k in fields)]
        if main_request and (requirements := self.user_message_output_requirements(signature)) is not None:
            messages.append(requirements)
        messages.append(suffix)
        return "\n\n".join(messages).strip()

    def _prepare_response_format(self, lm: Any, lm_kwargs: dict[str, Any], signature: type[dspy.Signature]) -> None:
        overrides = lm_kwargs.pop("field_schemas", None) or {}
        schema = output_schema(signature, overrides)
        lm_kwargs["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}

    def parse(self, signature: type[dspy.Signature], completion: str) -> dict[str, Any]:
        """JSONAdapter's for a plain JSON object of plain values (what a response schema gets), with
        one TypeAdapter per output type instead of one per value (building it was half the cost of a
        call through DSPy). Anything else, or any doubt, takes DSPy's own path and errors."""
        outputs = signature.output_fields
        try:
            fields = json.loads(completion)
        except ValueError:
            fields = None
        if not isinstance(fields, dict):
            return _dspy_parse(self, signature, completion)
        parsed: dict[str, Any] = {}
        for name, value in fields.items():
            if name not in outputs:
                continue
            annotation = outputs[name].annotation
            if annotation is str:
                parsed[name] = str(value)
                continue
            if isinstance(value, str) or isinstance(annotation, enum.EnumMeta) or get_origin(annotation) is Literal:
                return _dspy_parse(self, signature, completion)  # DSPy coerces these its own ways
            try:
                parsed[name] = _type_adapter(annotation).validate_python(value)
            except (ValueError, TypeError):  # a pydantic ValidationError, or an unhashable annotation
                return _dspy_parse(self, signature, completion)
        parsed = apply_output_field_defaults(signature, parsed)
        return parsed if parsed.keys() == outputs.keys() else _dspy_parse(self, signature, completion)


_dspy_parse = dspy.JSONAdapter.parse.__wrapped__  # unwrapped: the callbacks already ran for SchemaAdapter.parse
