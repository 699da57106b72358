"""`ToolServer`: simulates one tool execution, the way a real API would answer.

The call is validated against the tool's JSON Schema first (invalid → an error result with the
precise reason). The result then follows the tool's output schema (or one inferred from its name),
built by `ResultBuilder` from the same value generators as the arguments: ids passed in come back,
a search's items match its filters, what earlier results said about an object is said again, and
the same call gets the same result. The LM writes only the free-text fields (`results: schema`,
the default), or, for a strong served model, the whole result under the schema (`results: lm`),
which is checked the same way: a result that echoes the schema is replaced by a built one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import dspy

from inftool.agents.adapter import SchemaAdapter
from inftool.agents.result_checks import schema_echo
from inftool.agents.result_schemas import result_schema
from inftool.agents.results import TEXT_MAX, ResultBuilder, set_path, usable_text
from inftool.agents.signatures import SimulateResult
from inftool.specs import ToolSpec
from inftool.specs.schema import validation_error

MAX_HISTORY = 3

__all__ = ["EpisodeState", "ToolServer", "echo_ids", "result_schema", "validation_error"]


@dataclass
class EpisodeState:
    history: list[dict[str, Any]] = field(default_factory=list)


def echo_ids(result: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """An id the caller passed, and the result schema also has, is the same id in the result."""
    norm = {k.lower().replace("_", ""): v for k, v in arguments.items()}
    return {k: norm.get(k.lower().replace("_", ""), v) if k.lower().endswith("id") else v for k, v in result.items()}


def _same_call(state: EpisodeState, name: str, arguments: dict[str, Any]) -> dict[str, Any] | None:
    """An earlier identical call's result: a simulated API answers the same call the same way."""
    key = json.dumps(arguments, sort_keys=True, default=str)
    for entry in reversed(state.history):
        if entry["function"] == name and json.dumps(entry["arguments"], sort_keys=True, default=str) == key:
            return json.loads(json.dumps(entry["result"]))
    return None


class ToolServer(dspy.Module):
    def __init__(self, results: Literal["schema", "lm"] = "schema", text: Literal["lm", "template"] = "lm") -> None:
        super().__init__()
        if results not in ("schema", "lm") or text not in ("lm", "template"):
            raise ValueError(f"ToolServer: results must be schema or lm, text lm or template (got {results}, {text})")
        self.results, self.text = results, text
        self.simulate = dspy.Predict(SimulateResult)
        self.adapter = SchemaAdapter()

    async def aforward(self, tool: ToolSpec, arguments: Any, state: EpisodeState) -> tuple[dict[str, Any], bool]:
        """(result, is_error). Invalid calls never reach the LM."""
        error = validation_error(tool, arguments)
        if error is not None:
            return {"error": {"code": 400, "message": f"invalid arguments for {tool.name}: {error}"}}, True
        result = _same_call(state, tool.name, arguments)
        if result is None:
            builder = ResultBuilder(tool, arguments, state.history)
            built = builder.build()
            result = await self._by_lm(tool, arguments, state, built) if self.results == "lm" else built
            if self.results == "schema" and self.text == "lm" and builder.text_paths:
                await self._write_text(tool, arguments, state, result, builder.text_paths)
                builder.finish(result)
        state.history.append({"function": tool.name, "arguments": arguments, "result": result})
        return result, False

    async def _ask(self, tool: ToolSpec, described: dict[str, Any], arguments: Any, state: EpisodeState,
                   schema: dict[str, Any]) -> Any:  # fmt: skip
        with dspy.context(adapter=self.adapter):
            out = await self.simulate.acall(
                function=json.dumps(described), arguments=json.dumps(arguments),
                history=json.dumps(state.history[-MAX_HISTORY:]),
                config={"field_schemas": {"result": schema}, "rollout_id": len(state.history)},
            )  # fmt: skip
        return out.result

    async def _by_lm(self, tool: ToolSpec, arguments: Any, state: EpisodeState, built: dict[str, Any]) -> dict:
        """The LM writes the whole result under the schema; ids are echoed; a result that is no
        valid data (a schema, a wrong shape) gives way to the built one."""
        schema = result_schema(tool)
        described = {"name": tool.name, "description": tool.description, "result_schema": schema}
        out = await self._ask(tool, described, arguments, state, schema)
        result = echo_ids(out if isinstance(out, dict) else {"result": out}, arguments)
        checked = tool.model_copy(update={"parameters": schema})
        return built if schema_echo(result) or validation_error(checked, result) else result

    async def _write_text(self, tool: ToolSpec, arguments: Any, state: EpisodeState, result: dict[str, Any],
                          paths: list[tuple]) -> None:  # fmt: skip
        """The LM writes the free-text fields, seeing the rest of the result; what it writes that is
        not usable prose keeps the generated text."""
        names = {"/".join(map(str, p)): p for p in paths[:6]}
        schema = {"type": "object", "properties": {n: {"type": "string", "maxLength": TEXT_MAX} for n in names},
                  "required": list(names), "additionalProperties": False}  # fmt: skip
        described = {"name": tool.name, "description": tool.description, "result": result,
                     "write": f"the text of {', '.join(names)}"}  # fmt: skip
        out = await self._ask(tool, described, arguments, state, schema)
        if not isinstance(out, dict):
            return
        paths_named = tuple(n for n in names if "/" in n)
        said = [t.lower() for t in _strings([e["result"] for e in state.history]) + _strings(result) if len(t) >= 12]
        for name, path in names.items():
            text = str(out.get(name) or "").strip()
            copied = any(t in text.lower() for t in said)
            if usable_text(text, str(path[-1]), paths_named) and not copied:  # no text copied from elsewhere
                set_path(result, path, text)


def _strings(node: Any, depth: int = 0) -> list[str]:
    """Every string in a result (the texts an LM might copy instead of writing)."""
    if depth > 6:
        return []
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v, depth + 1)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v, depth + 1)]
    return []
