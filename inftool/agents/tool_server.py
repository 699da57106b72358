"""`ToolServer`: simulates one tool execution, the way a real API would answer.

The call is validated against the tool's JSON Schema first (invalid → an error result with the
precise reason). Per-episode state (the calls so far and their results) keeps results
consistent: ids from earlier results are reused, and an id argument the result schema also
names is echoed back unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import dspy

from inftool.agents.adapter import SchemaAdapter
from inftool.agents.signatures import SimulateResult
from inftool.specs import ToolSpec
from inftool.specs.schema import validation_error

MAX_HISTORY = 3


@dataclass
class EpisodeState:
    history: list[dict[str, Any]] = field(default_factory=list)


def result_schema(tool: ToolSpec) -> dict[str, Any]:
    schema = tool.output_schema
    if isinstance(schema, dict) and schema.get("type") == "object":
        return schema
    if isinstance(schema, dict) and schema:
        return {"type": "object", "properties": {"result": schema}, "required": ["result"]}
    return {"type": "object", "properties": {"status": {"type": "string", "maxLength": 40},
            "data": {"type": "object"}}, "required": ["status"]}  # fmt: skip


def echo_ids(result: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """An id the caller passed, and the result schema also has, is the same id in the result."""
    norm = {k.lower().replace("_", ""): v for k, v in arguments.items()}
    return {k: norm.get(k.lower().replace("_", ""), v) if k.lower().endswith("id") else v for k, v in result.items()}


class ToolServer(dspy.Module):
    def __init__(self) -> None:
        super().__init__()
        self.simulate = dspy.Predict(SimulateResult)
        self.adapter = SchemaAdapter()

    async def aforward(self, tool: ToolSpec, arguments: Any, state: EpisodeState) -> tuple[dict[str, Any], bool]:
        """(result, is_error). Invalid calls never reach the LM."""
        error = validation_error(tool, arguments)
        if error is not None:
            return {"error": {"code": 400, "message": f"invalid arguments for {tool.name}: {error}"}}, True
        schema = result_schema(tool)
        described = json.dumps({"name": tool.name, "description": tool.description, "result_schema": schema})
        with dspy.context(adapter=self.adapter):
            out = await self.simulate.acall(
                function=described, arguments=json.dumps(arguments), history=json.dumps(state.history[-MAX_HISTORY:]),
                config={"field_schemas": {"result": schema}, "rollout_id": len(state.history)},
            )  # fmt: skip
        result = echo_ids(out.result if isinstance(out.result, dict) else {"result": out.result}, arguments)
        state.history.append({"function": tool.name, "arguments": arguments, "result": result})
        return result, False
