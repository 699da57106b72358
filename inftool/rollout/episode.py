"""One episode: plan → (assistant ⇄ tools over MCP)* → answer, per user turn, within limits."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from inftool.agents import Assistant, Plan, ToolServer, UserSimulator
from inftool.agents.result_checks import field_values
from inftool.lm.runtime import episode_usage
from inftool.mcp import ExternalServer, SimulatedSession, ToolClient, connect, simulated_server
from inftool.rollout.records import Execution, Trajectory
from inftool.scenarios import Scenario


@dataclass
class Agents:
    user: UserSimulator
    assistant: Assistant
    tools: ToolServer
    models: dict[str, str]


@dataclass
class Limits:
    max_turns: int = 4  # assistant steps per user turn
    max_calls: int = 8  # tool calls per user turn
    policy: bool = True  # the assistant answers; False: the plan's own conversation is the episode (SFT data)

    @classmethod
    def of(cls, synthesis: Any) -> Limits:
        """From the `synthesis` config (`policy: never` is the only setting that keeps the assistant out)."""
        return cls(max_turns=synthesis.max_turns, max_calls=synthesis.max_calls, policy=synthesis.policy != "never")


class EpisodeFailed(Exception):
    def __init__(self, stage: str, exc: BaseException) -> None:
        reason = str(exc).splitlines()[0][:300] if str(exc) else ""
        super().__init__(f"{stage}: {type(exc).__name__}" + (f": {reason}" if reason else ""))


def _unwrap(exc: BaseException) -> BaseException:
    """The MCP client's task group wraps errors raised inside it in exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


async def _assistant_step(agents: Agents, messages: list[dict[str, Any]], tools: list[dict], seed: int) -> Any:
    try:
        return await agents.assistant.acall(messages, tools, seed=seed)
    except Exception as exc:
        raise EpisodeFailed("assistant", exc) from exc


async def _run_turns(
    scenario: Scenario, plan: Plan, agents: Agents, client: ToolClient, traj: Trajectory, limits: Limits
) -> None:
    messages, tools = traj.messages, traj.tools
    withheld = dict(plan.withheld)
    for turn_index, turn in enumerate(plan.turns):
        messages.append({"role": "user", "content": turn.user_message})
        calls_before = len(traj.executions)
        for step in range(limits.max_turns):
            result = await _assistant_step(agents, messages, tools, scenario.seed + 97 * turn_index + step)
            if result.tool_calls:
                calls = result.tool_calls[: max(0, limits.max_calls - (len(traj.executions) - calls_before))]
                messages.append({"role": "assistant", "content": None, "tool_calls": [c.openai() for c in calls]})
                for call in calls:
                    try:
                        outcome = await client.call(call.name, call.arguments)
                    except Exception as exc:
                        raise EpisodeFailed("tools", exc) from exc
                    traj.executions.append(Execution(call_id=call.id, name=call.name, arguments=call.arguments,
                                                     result=outcome.text, is_error=outcome.is_error))  # fmt: skip
                    messages.append(
                        {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": outcome.text}
                    )
                if len(traj.executions) - calls_before >= limits.max_calls:
                    break  # this turn's call budget is spent; a later user turn still happens
                continue
            messages.append({"role": "assistant", "content": result.content or ""})
            if withheld and scenario.kind == "clarify":  # the user answers the assistant's question
                try:
                    reply = await agents.user.answer(scenario, result.content or "", withheld)
                except Exception as exc:
                    raise EpisodeFailed("user", exc) from exc
                messages.append({"role": "user", "content": reply})
                withheld = {}
                continue
            break


async def _execute_plan(plan: Plan, client: ToolClient, traj: Trajectory) -> None:
    """Run the plan's own calls on the tool server, before the policy acts, so the plan can be
    verified without it (`PlanGate`). A bound argument takes the first value its source call's
    result holds for the field. The session is the policy's: an identical call it makes later gets
    the same simulated result. (On an external server these calls really run.)"""
    for turn_index, turn in enumerate(plan.turns):
        texts: list[str] = []
        for index, call in enumerate(turn.calls):
            arguments = dict(call.arguments)
            unresolved = None
            for argument, source in call.bindings.items():
                position, field = source.removeprefix("call_").split(".", 1)
                try:
                    found = field_values(json.loads(texts[int(position)]), field)
                except (ValueError, IndexError, json.JSONDecodeError):
                    found = []
                if not found:
                    unresolved = f"{argument} needs {source}, which no earlier result of the plan holds"
                    break
                arguments[argument] = found[0]
            call_id = f"plan_{turn_index}_{index}"
            if unresolved is not None:
                error = json.dumps({"error": {"message": unresolved}})
                traj.plan_executions.append(Execution(call_id=call_id, name=call.name, arguments=arguments,
                                                      result=error, is_error=True))  # fmt: skip
                texts.append(error)
                continue
            try:
                outcome = await client.call(call.name, arguments)
            except Exception as exc:
                raise EpisodeFailed("tools", exc) from exc
            traj.plan_executions.append(Execution(call_id=call_id, name=call.name, arguments=arguments,
                                                  result=outcome.text, is_error=outcome.is_error))  # fmt: skip
            texts.append(outcome.text)


def answered_calls(executions: list[Execution]) -> list[dict[str, Any]]:
    """One assistant message making these calls, then each call's result as a tool message: how a
    plan's own calls read in a conversation (plan-only episodes, SFT rows)."""

    def arguments(e: Execution) -> str:
        return e.arguments if isinstance(e.arguments, str) else json.dumps(e.arguments, ensure_ascii=False)

    calls = [{"id": e.call_id, "type": "function", "function": {"name": e.name, "arguments": arguments(e)}}
             for e in executions]  # fmt: skip
    results = [{"role": "tool", "tool_call_id": e.call_id, "name": e.name, "content": e.result} for e in executions]
    return [{"role": "assistant", "content": None, "tool_calls": calls}, *results]


def _planned_conversation(scenario: Scenario, plan: Plan, traj: Trajectory) -> None:
    """The messages of a verified plan played out without the policy: each user turn, the planned
    calls answered by the results the tool server gave them, or the plan's own reply where the
    first decision makes no call (irrelevance, clarify)."""
    traj.policy = False
    executions = iter(traj.plan_executions)
    for turn in plan.turns:
        traj.messages.append({"role": "user", "content": turn.user_message})
        if not turn.calls or scenario.kind in ("irrelevance", "clarify"):
            traj.messages.append({"role": "assistant", "content": plan.reply(scenario.kind)})
            return
        done = [e for _, e in zip(turn.calls, executions, strict=False)]
        for step in [[e] for e in done] if scenario.kind == "multi_step" else [done]:  # a chain: call by call
            traj.messages += answered_calls(step)


async def _with_tools(scenario: Scenario, agents: Agents, limits: Limits, traj: Trajectory, client: ToolClient,
                      start: float) -> None:  # fmt: skip
    assert traj.plan is not None
    await _execute_plan(traj.plan, client, traj)
    traj.timings["plan_exec_s"] = round(time.perf_counter() - start - traj.timings["plan_s"], 3)
    if limits.policy:
        await _run_turns(scenario, traj.plan, agents, client, traj, limits)
    else:
        _planned_conversation(scenario, traj.plan, traj)


async def run_episode(
    scenario: Scenario,
    agents: Agents,
    limits: Limits,
    external: ExternalServer | None = None,
    session: SimulatedSession | None = None,
) -> Trajectory:
    """Never raises: an LM failure or any exception marks this episode failed with its reason.
    The tools run on `external`, else on `session` (a worker's reused simulated server), else on a
    simulated server of the episode's own."""
    usage: dict[str, dict[str, int]] = {}
    token = episode_usage.set(usage)
    start = time.perf_counter()
    tools = [tool.openai_tool() for tool in scenario.offered]
    system = {"role": "system", "content": agents.assistant.system_prompt}
    traj = Trajectory(id=scenario.id, scenario=scenario, tools=tools, messages=[system], models=agents.models)
    try:
        try:
            traj.plan = await agents.user.acall(scenario)
        except Exception as exc:
            raise EpisodeFailed("plan", exc) from exc
        traj.timings["plan_s"] = round(time.perf_counter() - start, 3)
        if external is None and session is not None:
            await _with_tools(scenario, agents, limits, traj, await session.episode(scenario.offered), start)
        else:
            target = external if external is not None else simulated_server(scenario.offered, agents.tools)
            async with connect(target) as client:
                await _with_tools(scenario, agents, limits, traj, client, start)
    except Exception as exc:  # anything (an LM, the MCP transport, a bug) fails only this episode
        root = _unwrap(exc)
        traj.status = "failed"
        traj.failure = str(root if isinstance(root, EpisodeFailed) else EpisodeFailed("episode", root))
        if session is not None:
            await session.reset()  # the failure may have broken its transport
    finally:
        episode_usage.reset(token)
    traj.usage = usage
    traj.timings["total_s"] = round(time.perf_counter() - start, 3)
    return traj


def trajectory_line(traj: Trajectory) -> str:
    return json.dumps(traj.model_dump(mode="json"), ensure_ascii=False)
