"""The gates: each a component with one call signature, `gate(trajectory) -> GateResult`.

plan (the label verified on its own: `inftool.gates.plan`) → format (calls parse, arguments are
JSON objects) → schema (each call against its tool's JSON Schema) → execution (no MCP error, results
that are data and answer their calls) → consistency (the calls equal the plan's under BFCL's AST
semantics) → judge (optional, an LM) → dedup (no exact or near-duplicate user request).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import dspy
from datasketch import LeanMinHash

from inftool.agents import Plan
from inftool.agents.result_checks import result_problem
from inftool.gates.matcher import ExpectedCall, expected_from, match_calls
from inftool.gates.near_dup import NUM_PERM, NearDuplicateIndex, normalize
from inftool.gates.records import GateResult
from inftool.lm.toolcalls import parse_arguments
from inftool.rollout import Trajectory
from inftool.specs import ToolSpec
from inftool.specs.schema import validation_error

_UNPARSED_CALL = re.compile(r'^\s*(\{\s*"tool_calls"|<tool_call>|\[\s*\{\s*"name")')


def calls_of(message: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, arguments) of an assistant message's calls; unparseable arguments stay a string."""
    return [
        (c["function"]["name"], parse_arguments(c["function"].get("arguments")))
        for c in message.get("tool_calls") or []
    ]


def calls_per_turn(traj: Trajectory) -> list[list[tuple[str, Any]]]:
    """The assistant's calls grouped by the plan's user turns (a clarify reply stays in its turn)."""
    plan = traj.plan
    assert plan is not None
    turns: list[list[tuple[str, Any]]] = []
    next_turn = 0
    for message in traj.messages:
        if (
            message["role"] == "user"
            and next_turn < len(plan.turns)
            and message["content"] == plan.turns[next_turn].user_message
        ):
            turns.append([])
            next_turn += 1
        elif message["role"] == "assistant" and turns:
            turns[-1].extend(calls_of(message))
    return turns


class Gate:
    name = "gate"

    def ok(self) -> GateResult:
        return GateResult(gate=self.name, passed=True)

    def fail(self, reason: str) -> GateResult:
        return GateResult(gate=self.name, passed=False, reason=reason)

    def __call__(self, traj: Trajectory) -> GateResult:
        raise NotImplementedError


class FormatGate(Gate):
    name = "format"

    def __call__(self, traj: Trajectory) -> GateResult:
        if traj.status != "completed" or traj.plan is None:
            return self.fail(f"episode failed: {traj.failure}")
        for message in traj.messages:
            if message["role"] != "assistant":
                continue
            if not message.get("tool_calls") and _UNPARSED_CALL.match(message.get("content") or ""):
                return self.fail("tool call output that does not parse (cut off or malformed)")
            for name, args in calls_of(message):
                if not isinstance(args, dict):
                    return self.fail(f"arguments of {name} are not a JSON object")
        return self.ok()


class SchemaGate(Gate):
    name = "schema"

    def __call__(self, traj: Trajectory) -> GateResult:
        tools = {t.name: t for t in traj.scenario.offered}
        for message in traj.messages:
            for name, args in calls_of(message) if message["role"] == "assistant" else []:
                if name not in tools:
                    return self.fail(f"call to {name}, which is not an offered tool")
                if error := validation_error(tools[name], args):  # validators compiled once per schema
                    return self.fail(f"{name}: {error}")
        return self.ok()


class ExecutionGate(Gate):
    """No MCP error, and every result is data that answers its call: no JSON Schema echoed as
    data, and an id passed in comes back where the tool's output schema has a field for it."""

    name = "execution"

    def __call__(self, traj: Trajectory) -> GateResult:
        errors = [e for e in traj.executions if e.is_error]
        if errors:
            return self.fail(f"{errors[0].name} returned an error: {errors[0].result[:160]}")
        tools = {t.name: t for t in traj.scenario.offered}
        for execution in traj.executions:
            tool = tools.get(execution.name)
            if tool is not None and (problem := result_problem(tool, execution.arguments, execution.result)):
                return self.fail(problem)
        return self.ok()


def _field_values(result_text: str, field: str) -> list[Any]:
    """Every value of `field` in a tool result (top level, list items, or under `result`)."""
    try:
        data = json.loads(result_text)
    except json.JSONDecodeError:
        return []
    found: list[Any] = []

    def walk(node: Any, depth: int) -> None:
        if depth > 4:
            return
        if isinstance(node, dict):
            if field in node and not isinstance(node[field], dict | list):
                found.append(node[field])
            for value in node.values():
                walk(value, depth + 1)
        elif isinstance(node, list):
            for value in node:
                walk(value, depth + 1)

    walk(data, 0)
    return found


def expected_calls(plan_turn_calls: list, traj: Trajectory) -> list[ExpectedCall] | str:
    """The plan's calls as BFCL possible answers; a bound argument accepts any value the
    source call's result held for that field. A string is the reason it cannot be built."""
    expected = []
    for call in plan_turn_calls:
        args = expected_from(call.name, call.arguments)[call.name]
        for argument, source in call.bindings.items():
            index, field = source.removeprefix("call_").split(".", 1)
            source_name = plan_turn_calls[int(index)].name
            runs = [e for e in traj.executions if e.name == source_name and not e.is_error]
            values = [v for e in runs for v in _field_values(e.result, field)]
            if not values:
                return f"{call.name}.{argument} needs {source_name}'s {field}, which no result returned"
            args[argument] = values
        expected.append({call.name: args})
    return expected


class ConsistencyGate(Gate):
    """The assistant's calls equal the plan's intended calls, turn by turn (BFCL AST semantics:
    order-free for parallel kinds, ordered for a multi-step chain)."""

    name = "consistency"

    def __call__(self, traj: Trajectory) -> GateResult:
        plan: Plan | None = traj.plan
        if plan is None:
            return self.fail("no plan")
        tools: dict[str, ToolSpec] = {t.name: t for t in traj.scenario.offered}
        turns = calls_per_turn(traj)
        if traj.scenario.kind == "irrelevance":
            made = [name for turn in turns for name, _ in turn]
            return self.fail(f"called {made[0]} although no offered tool fits") if made else self.ok()
        if traj.scenario.kind == "clarify":
            first_reply = next((m for m in traj.messages[2:] if m["role"] == "assistant"), {})
            if first_reply.get("tool_calls"):
                return self.fail("called a tool before asking for the missing argument")
        if len(turns) < len(plan.turns):
            return self.fail(f"only {len(turns)} of {len(plan.turns)} user turns happened")
        for index, (turn, planned) in enumerate(zip(turns, plan.turns, strict=False)):
            expected = expected_calls(planned.calls, traj)
            if isinstance(expected, str):
                return self.fail(expected)
            if reason := match_calls(turn, expected, tools, ordered=traj.scenario.kind == "multi_step"):
                return self.fail(f"turn {index + 1}: {reason}")
        return self.ok()


class JudgeFaithfulness(dspy.Signature):
    """Judge whether the assistant's final answer is faithful to the tool results: it states
    nothing that contradicts them and invents no result. Answer faithful=true or false."""

    tool_results: str = dspy.InputField()
    final_answer: str = dspy.InputField()
    faithful: bool = dspy.OutputField()
    reason: str = dspy.OutputField()


class JudgeGate(Gate):
    """Optional: an LM (the `judge` role) checks the final answer against the tool results."""

    name = "judge"

    def __init__(self) -> None:
        from inftool.agents.adapter import SchemaAdapter

        self.judge = dspy.Predict(JudgeFaithfulness)
        self.adapter = SchemaAdapter()

    def set_lm(self, lm: Any) -> None:
        self.judge.set_lm(lm)

    def __call__(self, traj: Trajectory) -> GateResult:
        answers = [m["content"] for m in traj.messages if m["role"] == "assistant" and m.get("content")]
        if not answers or not traj.executions:
            return self.ok()  # nothing to judge
        results = json.dumps([{"function": e.name, "result": e.result[:400]} for e in traj.executions])
        with dspy.context(adapter=self.adapter):
            verdict = self.judge(tool_results=results, final_answer=answers[-1], config={"temperature": 0.0})
        return self.ok() if verdict.faithful else self.fail(f"unfaithful answer: {str(verdict.reason)[:160]}")


class DedupGate(Gate):
    """Drops a trajectory whose first user request repeats (exactly, or with character 4-gram
    Jaccard similarity >= threshold) one already accepted in this run or seeded into it (earlier
    rounds, a resumed run). MinHash LSH finds the candidates; the exact Jaccard decides."""

    name = "dedup"

    def __init__(self, threshold: float = 0.9, num_perm: int = NUM_PERM) -> None:
        self.threshold = threshold
        self.exact: set[bytes] = set()
        self.index = NearDuplicateIndex(threshold, num_perm)
        self._last: tuple[str, LeanMinHash] | None = None  # the request just checked: remember() reuses its sketch

    @staticmethod
    def request(traj: Trajectory) -> str:
        return next((m["content"] for m in traj.messages if m["role"] == "user"), "")

    def remember(self, traj: Trajectory) -> None:
        self.remember_request(self.request(traj))

    def remember_request(self, text: str) -> None:
        """Refuse this request's duplicates from now on (seeding takes requests only: no trajectories)."""
        self.exact.add(_digest(text))
        normalized = normalize(text)
        cached = self._last if self._last is not None and self._last[0] == normalized else None
        self.index.add(normalized, cached[1] if cached else None)

    def __call__(self, traj: Trajectory) -> GateResult:
        text = self.request(traj)
        if _digest(text) in self.exact:
            return self.fail("exact duplicate of an earlier request")
        normalized = normalize(text)
        sketch = self.index.sketch(normalized)
        self._last = (normalized, sketch)
        if (found := self.index.match(normalized, sketch)) is not None:
            return self.fail(f"near-duplicate of an earlier request (similarity {found[1]:.2f})")
        return self.ok()


def _digest(text: str) -> bytes:
    return hashlib.sha1(text.lower().strip().encode()).digest()
