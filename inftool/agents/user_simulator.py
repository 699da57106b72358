"""`UserSimulator`: writes the plan (answer-first) and plays the user in later turns.

Arguments are drawn first, under constrained decoding from each tool's schema; then a message
is written that needs exactly those calls. For `clarify` one required value is withheld from
the message (the writer never sees it); for `multi_step` the chained argument is bound to the
earlier call's result instead of drawn.
"""

from __future__ import annotations

import json
from typing import Any

import dspy

from inftool.agents.adapter import SchemaAdapter
from inftool.agents.records import Plan, PlannedCall, PlannedTurn
from inftool.agents.signatures import DrawArguments, ReplyToAssistant, WriteRequest
from inftool.scenarios import Scenario
from inftool.specs import ToolSpec
from inftool.specs.schema import validation_error


def describe_tool(tool: ToolSpec, schema: dict[str, Any] | None = None) -> str:
    return json.dumps({"name": tool.name, "description": tool.description, "parameters": schema or tool.parameters})


def without_argument(schema: dict[str, Any], name: str) -> dict[str, Any]:
    props = {k: v for k, v in schema.get("properties", {}).items() if k != name}
    required = [r for r in schema.get("required", []) if r != name]
    return {**schema, "properties": props, "required": required}


def required_only(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with only its required properties (plus all when none are required), so a
    small model fills what matters instead of every optional field."""
    required = schema.get("required") or []
    props = schema.get("properties", {})
    if required:
        props = {k: v for k, v in props.items() if k in required}
    return {"type": "object", "properties": props, "required": list(props) if required else []}


class UserSimulator(dspy.Module):
    def __init__(self, redraws: int = 2) -> None:
        super().__init__()
        self.redraws = redraws
        self.draw_arguments = dspy.Predict(DrawArguments)
        self.write_request = dspy.Predict(WriteRequest)
        self.reply = dspy.Predict(ReplyToAssistant)
        self.adapter = SchemaAdapter()

    async def _draw(self, scenario: Scenario, tool: ToolSpec, schema: dict[str, Any], avoid: list, n: int) -> dict:
        """Constrained draw; a draw the full schema rejects (formats the grammar cannot enforce)
        is redrawn, up to `redraws` times."""
        arguments: dict[str, Any] = {}
        for attempt in range(1 + self.redraws):
            rollout_id = scenario.seed * 1000 + n * 10 + attempt
            with dspy.context(adapter=self.adapter):
                out = await self.draw_arguments.acall(
                    persona=scenario.persona, function=describe_tool(tool, schema), avoid=json.dumps(avoid),
                    config={"field_schemas": {"arguments": schema}, "rollout_id": rollout_id},
                )  # fmt: skip
            arguments = out.arguments if isinstance(out.arguments, dict) else {}
            if validation_error(tool.model_copy(update={"parameters": schema}), arguments) is None:
                break
        return arguments

    async def _calls_for(self, scenario: Scenario, name: str, count: int, start: int) -> list[PlannedCall]:
        tool = scenario.tool(name)
        schema = required_only(tool.parameters)
        bindings: dict[str, str] = {}
        chain = scenario.chain
        if chain and chain.target == name:
            schema = without_argument(schema, chain.target_argument)
            bindings[chain.target_argument] = f"call_{scenario.targets.index(chain.source)}.{chain.source_field}"
        calls: list[PlannedCall] = []
        for n in range(count):
            arguments = await self._draw(scenario, tool, schema, [c.arguments for c in calls], start + n)
            calls.append(PlannedCall(name=name, arguments=arguments, bindings=bindings))
        return calls

    async def _message(self, scenario: Scenario, calls: list[PlannedCall], hidden: set[str], n: int) -> tuple[str, str]:
        actions = []
        for call in calls:
            tool = scenario.tool(call.name)
            values = {k: v for k, v in call.arguments.items() if k not in hidden}
            uses = {k: f"(the {v.split('.', 1)[1]} from the previous step)" for k, v in call.bindings.items()}
            actions.append({"action": tool.description or tool.name, "values": {**values, **uses}})
        with dspy.context(adapter=self.adapter):
            out = await self.write_request.acall(
                persona=scenario.persona, actions=json.dumps(actions), config={"rollout_id": scenario.seed * 100 + n}
            )
        return str(out.goal), str(out.message)

    async def aforward(self, scenario: Scenario) -> Plan:
        if scenario.kind == "irrelevance":
            assert scenario.irrelevant_tool is not None
            wanted = await self._calls_for(scenario, scenario.irrelevant_tool.name, 1, 0)
            goal, message = await self._message(scenario, wanted, set(), 50)
            return Plan(goal=goal, turns=[PlannedTurn(user_message=message, calls=[])])
        calls: list[PlannedCall] = []
        for index, (name, count) in enumerate(zip(scenario.targets, scenario.calls_per_target, strict=True)):
            calls += await self._calls_for(scenario, name, count, index * 10)
        hidden = {scenario.missing_argument} if scenario.missing_argument else set()
        withheld = {k: v for k, v in calls[0].arguments.items() if k in hidden}
        if scenario.kind == "multi_turn":  # one target per turn: the user follows up
            turns = []
            for n, call in enumerate(calls):
                goal_n, message = await self._message(scenario, [call], set(), 50 + n)
                goal = goal_n if n == 0 else goal
                turns.append(PlannedTurn(user_message=message, calls=[call]))
            return Plan(goal=goal, turns=turns)
        goal, message = await self._message(scenario, calls, hidden, 50)
        for value in withheld.values():  # the writer never saw it; a chance match must not leak it either
            if len(str(value)) >= 3:
                message = message.replace(str(value), "").strip() or "Can you help me with this?"
        return Plan(goal=goal, turns=[PlannedTurn(user_message=message, calls=calls)], withheld=withheld)

    async def answer(self, scenario: Scenario, assistant_message: str, information: dict[str, Any]) -> str:
        """Reply in character; withheld values are revealed (and always present in the reply)."""
        with dspy.context(adapter=self.adapter):
            out = await self.reply.acall(
                persona=scenario.persona, assistant_message=assistant_message, information=json.dumps(information),
                config={"rollout_id": scenario.seed * 100 + 99},
            )  # fmt: skip
        reply = str(out.reply)
        missing = [f"{k} is {v}" for k, v in information.items() if str(v) not in reply]
        return " ".join([reply.strip(), *missing]).strip()
