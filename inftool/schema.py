"""Which dotted keys the validated config (`InftoolConfig`) has, read from its pydantic models.

Composition only knows the keys some YAML file set; the schema also knows the documented keys
no default sets (`toolsets.NAME.path`, `agents.tools.program`, `lm.assistant.model_path`), so the
command line can set them without Hydra's `+`, and an unknown key's error can list what is allowed.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Union

from pydantic import BaseModel

ANY_KEY = object()  # a `_target_` node's constructor arguments: any key


def _shapes(annotation: Any) -> list[Any]:
    """What a field can hold, as models, ("dict", value shapes), ("list", item shapes) or None (a scalar)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _shapes(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [s for arg in typing.get_args(annotation) for s in _shapes(arg)]
    if origin is dict:
        return [("dict", _shapes(typing.get_args(annotation)[1]))]
    if origin is list:
        return [("list", _shapes(typing.get_args(annotation)[0]))]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [ANY_KEY if annotation.model_config.get("extra") == "allow" else annotation]
    return [None]


def _step(shapes: list[Any], part: str) -> list[Any]:
    out: list[Any] = []
    for shape in shapes:
        if shape is ANY_KEY:
            out.append(ANY_KEY)
        elif isinstance(shape, tuple) and (shape[0] == "dict" or part.isdigit()):
            out += shape[1]
        elif isinstance(shape, type) and part in shape.model_fields:
            out += _shapes(shape.model_fields[part].annotation)
    return out


def _walk(key: str) -> list[Any]:
    from inftool.config import InftoolConfig

    shapes: list[Any] = [InftoolConfig]
    for part in [p for p in key.split(".") if p]:
        shapes = _step(shapes, part)
    return shapes


def schema_allows(key: str) -> bool:
    """Whether `key` (dotted) names a place the validated config has."""
    return bool(_walk(key))


def allowed_keys(parent: str) -> list[str]:
    """The keys allowed directly under `parent` ("" for the top level)."""
    keys: set[str] = set()
    for shape in _walk(parent):
        if isinstance(shape, type):
            keys |= set(shape.model_fields)
    return sorted(keys)
