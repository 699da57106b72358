"""`PlanGate`: the plan (the label) verified on its own, whatever the policy did.

A plan passes when its user messages are usable (they ask for something, name no function, hold
no JSON); its calls fit the schemas of offered tools and hold no placeholder (`path` =
`"write_file"`); it is grounded: every value the assistant must supply is in the user's words (or
is bound to an earlier result, multi_step; or withheld and revealed on request, clarify); it ran
without error on the tool server, with results that are data (no schema echoed) and answer the
call (the ids passed in come back); and, when `verifier: true`, an LM given only the first message
and the tools reproduces the first decision. Each refusal is one sentence: the reasons a plan
was refused.
"""

from __future__ import annotations

import json
from typing import Any

from inftool.agents.grounding import message_problems, placeholders, ungrounded
from inftool.agents.result_checks import result_problem
from inftool.agents.signatures import AssistantTurn
from inftool.gates.gates import Gate
from inftool.gates.matcher import expected_from, match_calls
from inftool.gates.records import GateResult
from inftool.lm import ChatRequest
from inftool.rollout import Trajectory
from inftool.specs import ToolSpec
from inftool.specs.schema import validation_error


def _short(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:60]


def plan_problem(traj: Trajectory) -> str | None:
    """Why the trajectory's plan is no usable label, or None (every check but the verifier's)."""
    plan = traj.plan
    if plan is None:
        return f"no plan: {traj.failure}" if traj.failure else "no plan"
    scenario = traj.scenario
    tools: dict[str, ToolSpec] = {t.name: t for t in scenario.offered}
    names = [*tools, *([scenario.irrelevant_tool.name] if scenario.irrelevant_tool else [])]
    texts: list[str] = []
    withheld = [f"{k} {v}" for k, v in plan.withheld.items()]  # clarify: revealed when asked
    planned = [call for turn in plan.turns for call in turn.calls]
    for number, turn in enumerate(plan.turns, 1):
        for problem in message_problems(turn.user_message, names):
            return f"turn {number}: {problem}"
        texts.append(turn.user_message)
        said = [json.dumps([call.name, call.arguments], sort_keys=True) for call in turn.calls]
        if len(set(said)) < len(said):  # "the best server … and the best server …" for one call made twice
            return f"turn {number}: the plan makes the same call twice"
        for index, call in enumerate(turn.calls):
            tool = tools.get(call.name)
            if tool is None:
                return f"the plan calls {call.name}, which is not an offered tool"
            for argument, source in call.bindings.items():
                position = source.removeprefix("call_").split(".", 1)[0]
                if not position.isdigit() or int(position) >= index:
                    return f"{call.name}.{argument} is bound to {source}, which is no earlier call of its turn"
            if bad := placeholders(call.name, call.arguments):
                return f"placeholder value: {call.name}.{bad[0]}"
            loose = tool.parameters | {"required": [r for r in tool.parameters.get("required", [])
                                                    if r not in call.bindings]}  # fmt: skip
            if error := validation_error(tool.model_copy(update={"parameters": loose}), call.arguments):
                return f"the plan's {call.name} call does not fit its schema: {error}"
            missing = ungrounded(call.arguments, [*texts, *withheld])
            if missing:
                value = _short(call.arguments[missing[0]])
                return f"ungrounded: {call.name}.{missing[0]} = {value} is not in the user's words"
    if scenario.kind != "irrelevance" and not planned:
        return "the plan makes no call"
    if len(traj.plan_executions) < len(planned):
        return f"the plan ran {len(traj.plan_executions)} of its {len(planned)} calls on the tool server"
    for execution in traj.plan_executions:
        if execution.is_error:
            return f"the plan's {execution.name} call failed on the tool server: {execution.result[:160]}"
        tool = tools.get(execution.name)
        if tool is not None and (problem := result_problem(tool, execution.arguments, execution.result)):
            return problem
    return None


class PlanGate(Gate):
    """The plan verified without the policy; `verifier: true` adds an LM (the `judge` role) that,
    given only the first message and the tools, must make the plan's first decision."""

    name = "plan"

    def __init__(self, verifier: bool = False) -> None:
        self.verifier = verifier
        self.lm: Any = None

    def set_lm(self, lm: Any) -> None:
        self.lm = lm

    def __call__(self, traj: Trajectory) -> GateResult:
        if problem := plan_problem(traj):
            return self.fail(problem)
        if self.verifier and self.lm is not None and (problem := self.reproduce(traj)):
            return self.fail(problem)
        return self.ok()

    def reproduce(self, traj: Trajectory) -> str | None:
        assert traj.plan is not None
        tools = {t.name: t for t in traj.scenario.offered}
        messages = [{"role": "system", "content": AssistantTurn.instructions},
                    {"role": "user", "content": traj.plan.turns[0].user_message}]  # fmt: skip
        request = ChatRequest(messages=messages, tools=[t.openai_tool() for t in tools.values()], temperature=0.0)
        result = self.lm.client.complete(request)
        made = [(c.name, c.arguments) for c in result.tool_calls]
        wanted = traj.plan.first_decision(traj.scenario.kind)
        if not wanted:
            return f"a verifier called {made[0][0]} where the plan makes no call" if made else None
        expected = [expected_from(c.name, c.arguments) for c in wanted]
        if reason := match_calls(made, expected, tools, ordered=traj.scenario.kind == "multi_step"):
            return f"a verifier given only the message and the tools did not reproduce the plan: {reason}"
        return None
