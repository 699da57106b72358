"""`UserSimulator`: writes the plan (answer-first) and plays the user in later turns.

Arguments first: by default from the schema- and name-aware generators (`values: generate`,
Faker seeded per scenario), so even a 135M model's plans carry realistic data; `values: choose`
lets the LM pick each value among generated candidates, `values: lm` lets it draw freely (a
placeholder or invalid value it writes is replaced by a generated one). Then the message: the LM
says a draft that states every value in its own words; a message that leaves a value out, names a
function or talks JSON is written again (`rewrites` more tries, the best kept, counted on the plan),
and when none carries every value the draft itself is the message (`PlannedTurn.source`).

For `clarify` one required value is withheld from the message (the writer never sees it); for
`multi_step` the chained argument is bound to the earlier call's result instead of drawn.
"""

from __future__ import annotations

import json
import random
from typing import Any, Literal

import dspy

from inftool.agents.adapter import SchemaAdapter
from inftool.agents.grounding import message_problems, placeholders, ungrounded
from inftool.agents.patterns import words
from inftool.agents.phrasing import request, say
from inftool.agents.records import Plan, PlannedCall, PlannedTurn
from inftool.agents.signatures import DrawArguments, ReplyToAssistant, WriteRequest
from inftool.agents.values import Values
from inftool.scenarios import Scenario
from inftool.specs import ToolSpec
from inftool.specs.schema import validation_error

CANDIDATES = 4  # values: choose — generated candidates the LM picks among, per argument
SHARED_PARALLEL = 0.75  # parallel calls to one tool that share all but one value ("for Paris, Rome and Oslo")
# what a person never varies across calls: "api secret KMNT738jAw and 7Fq4jfBErG" reads as nobody asks
CREDENTIAL_WORDS = {"key", "apikey", "secret", "token", "password", "auth", "authorization", "signature"}
OPTIONAL_SHARE, MAX_OPTIONAL = 0.3, 2  # optional arguments a plan also fills (each with this chance, at most)


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


def with_optional(schema: dict[str, Any], full: dict[str, Any], seed: str) -> dict[str, Any]:
    """`schema` (the required arguments) plus up to `MAX_OPTIONAL` of the tool's optional scalar
    arguments, each with probability `OPTIONAL_SHARE`: people say "for 3 days" when it matters, and
    a policy that learned only required arguments leaves out what the user asked for."""
    rng = random.Random(f"{seed}:optional")
    props = full.get("properties") or {}
    if not full.get("required") or not isinstance(props, dict):
        return schema  # no required argument: every property is already drawn
    optional = [k for k, v in props.items() if k not in schema["properties"] and _scalar_or_choice(v)]
    chosen = [k for k in optional if rng.random() < OPTIONAL_SHARE][:MAX_OPTIONAL]
    if not chosen:
        return schema
    added = {**schema["properties"], **{k: props[k] for k in chosen}}
    return {**schema, "properties": added, "required": list(added)}


SCALARS = ("string", "integer", "number", "boolean")


def _scalar_or_choice(schema: Any) -> bool:
    return isinstance(schema, dict) and (bool(schema.get("enum")) or schema.get("type") in SCALARS)


def _scalar(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") in ("string", "integer", "number") and not schema.get("enum")


class UserSimulator(dspy.Module):
    def __init__(
        self,
        redraws: int = 2,
        values: Literal["generate", "choose", "lm"] = "generate",
        message: Literal["lm", "template"] = "lm",
        rewrites: int = 2,
    ) -> None:
        super().__init__()
        if values not in ("generate", "choose", "lm") or message not in ("lm", "template") or rewrites < 0:
            raise ValueError(
                f"UserSimulator: values is generate, choose or lm; message lm or template; rewrites >= 0 "
                f"(got {values}, {message}, {rewrites})"
            )
        self.redraws, self.values, self.message, self.rewrites = redraws, values, message, rewrites
        self.draw_arguments = dspy.Predict(DrawArguments)
        self.write_request = dspy.Predict(WriteRequest)
        self.reply = dspy.Predict(ReplyToAssistant)
        self.adapter = SchemaAdapter()

    # ---- arguments ---------------------------------------------------------------------------
    def _generator(self, scenario: Scenario, tag: str) -> Values:
        values = Values(f"{scenario.seed}:{tag}")
        values.learn([t.parameters for t in [*scenario.offered, *filter(None, [scenario.irrelevant_tool])]])
        return values

    async def _lm_draw(self, scenario: Scenario, tool: ToolSpec, schema: dict, avoid: list, rollout_id: int) -> dict:
        with dspy.context(adapter=self.adapter):
            out = await self.draw_arguments.acall(
                persona=scenario.persona, function=describe_tool(tool, schema), avoid=json.dumps(avoid),
                config={"field_schemas": {"arguments": schema}, "rollout_id": rollout_id},
            )  # fmt: skip
        return out.arguments if isinstance(out.arguments, dict) else {}

    async def _draw(self, scenario: Scenario, tool: ToolSpec, schema: dict[str, Any], avoid: list, n: int) -> dict:
        """One call's arguments: valid under the narrowed schema, no placeholder, unlike `avoid`;
        redrawn up to `redraws` times."""
        narrowed = tool.model_copy(update={"parameters": schema})
        arguments: dict[str, Any] = {}
        for attempt in range(1 + self.redraws):
            generated = self._generator(scenario, f"{tool.name}:{n}:{attempt}").arguments(tool.name, schema)
            arguments = generated
            if self.values != "generate":
                rollout_id = scenario.seed * 1000 + n * 10 + attempt
                lm_schema = schema
                if self.values == "choose":  # each scalar value picked among generated candidates
                    pool = [generated] + [
                        self._generator(scenario, f"{tool.name}:{n}:{attempt}:{c}").arguments(tool.name, schema)
                        for c in range(1, CANDIDATES)
                    ]
                    props = {k: {**v, "enum": list(dict.fromkeys(p[k] for p in pool if k in p))} if _scalar(v) else v
                             for k, v in (schema.get("properties") or {}).items()}  # fmt: skip
                    lm_schema = {**schema, "properties": props}
                drawn = await self._lm_draw(scenario, tool, lm_schema, avoid, rollout_id)
                bad = {p.split(" ", 1)[0].split(".", 1)[0].split("[", 1)[0] for p in placeholders(tool.name, drawn)}
                arguments = {k: generated[k] if k in bad or k not in drawn else drawn[k] for k in generated}
                arguments.update({k: v for k, v in drawn.items() if k not in generated and k not in bad})
                if validation_error(narrowed, arguments) is not None:
                    arguments = {k: v if validation_error(narrowed, {**generated, k: v}) is None else generated[k]
                                 for k, v in arguments.items() if k in generated}  # fmt: skip
            if validation_error(narrowed, arguments) is None and arguments not in avoid:
                break
        return arguments

    async def _calls_for(self, scenario: Scenario, name: str, count: int, start: int) -> list[PlannedCall]:
        tool = scenario.tool(name)
        schema = with_optional(required_only(tool.parameters), tool.parameters, f"{scenario.seed}:{name}")
        bindings: dict[str, str] = {}
        chain = scenario.chain
        if chain and chain.target == name:
            schema = without_argument(schema, chain.target_argument)
            bindings[chain.target_argument] = f"call_{scenario.targets.index(chain.source)}.{chain.source_field}"
        calls: list[PlannedCall] = []
        varied = varied_argument(scenario, name, schema) if count > 1 else None
        narrowed = tool.model_copy(update={"parameters": schema})
        for n in range(count):
            arguments = await self._draw(scenario, tool, schema, [c.arguments for c in calls], start + n)
            if calls and varied:  # the same request repeated for other values of one argument
                shared = {**calls[0].arguments, varied: arguments.get(varied)}
                if shared not in [c.arguments for c in calls] and validation_error(narrowed, shared) is None:
                    arguments = shared
            calls.append(PlannedCall(name=name, arguments=arguments, bindings=bindings))
        return calls

    # ---- the message -------------------------------------------------------------------------
    def _draft(self, scenario: Scenario, calls: list[PlannedCall], hidden: set[str], n: int) -> str:
        parts = []
        for call in calls:
            tool = scenario.tool(call.name)
            values = {k: v for k, v in call.arguments.items() if k not in hidden}
            bound = {k: " ".join(words(v.split(".", 1)[1])) for k, v in call.bindings.items()}
            parts.append((tool.name, tool.description, values, bound, tool.parameters.get("properties") or {}))
        return request(parts, f"{scenario.seed}:{n}", ordered=scenario.kind == "multi_step")

    async def _message(
        self, scenario: Scenario, calls: list[PlannedCall], hidden: set[str], n: int, grounded: bool = True
    ) -> tuple[str, str, Literal["lm", "template"], int]:
        """(goal, message, who wrote it, rewrites). `grounded`: every visible value must be in the message."""
        draft = self._draft(scenario, calls, hidden, n)
        if self.message == "template":
            return draft, draft, "template", 0
        rng_seed = scenario.seed * 100 + n
        actions = []
        for call in calls:
            tool = scenario.tool(call.name)
            values = {k: say(v, k, _Fixed()) for k, v in call.arguments.items() if k not in hidden}
            uses = {k: f"(the {v.split('.', 1)[1]} from the previous step)" for k, v in call.bindings.items()}
            actions.append({"action": tool.description or tool.name, "values": {**values, **uses}})
        names = [t.name for t in [*scenario.offered, *filter(None, [scenario.irrelevant_tool])]]
        best: tuple[int, str, str] | None = None
        tries = 0
        for attempt in range(1 + self.rewrites):
            tries = attempt
            config: dict[str, Any] = {"rollout_id": rng_seed + 7919 * attempt, "seed": rng_seed + 7919 * attempt}
            if attempt:
                config["temperature"] = 0.9  # a rewrite is a new sample, even from a greedy model
            with dspy.context(adapter=self.adapter):
                out = await self.write_request.acall(
                    persona=scenario.persona, actions=json.dumps(actions), draft=draft, config=config
                )
            message, goal = str(out.message).strip(), str(out.goal).strip()
            for value in _hidden_values(calls, hidden):  # the writer never saw it; a chance match must not leak it
                message = message.replace(value, "").strip()
            problems = message_problems(message, names)
            if len(message) > 1.5 * len(draft) + 30:  # the draft said it all; more is the model rambling
                problems.append("the message rambles beyond the request")
            if grounded:
                for call in calls:
                    problems += ungrounded(call.arguments, [message], skip=hidden)
            if best is None or len(problems) < best[0]:
                best = (len(problems), goal, message)
            if not problems:
                break
        assert best is not None
        if best[0]:
            return draft, draft, "template", tries
        return best[1] or draft, best[2], "lm", tries

    async def aforward(self, scenario: Scenario) -> Plan:
        if scenario.kind == "irrelevance":
            assert scenario.irrelevant_tool is not None
            wanted = await self._calls_for(scenario, scenario.irrelevant_tool.name, 1, 0)
            goal, message, source, tries = await self._message(scenario, wanted, set(), 50)
            return Plan(goal=goal, turns=[PlannedTurn(user_message=message, calls=[], source=source)], rewrites=tries)
        calls: list[PlannedCall] = []
        for index, (name, count) in enumerate(zip(scenario.targets, scenario.calls_per_target, strict=True)):
            calls += await self._calls_for(scenario, name, count, index * 10)
        hidden = {scenario.missing_argument} if scenario.missing_argument else set()
        withheld = {k: v for k, v in calls[0].arguments.items() if k in hidden}
        if scenario.kind == "multi_turn":  # one target per turn: the user follows up
            turns, rewrites, goal = [], 0, ""
            for n, call in enumerate(calls):
                goal_n, message, source, tries = await self._message(scenario, [call], set(), 50 + n)
                goal = goal_n if n == 0 else goal
                rewrites += tries
                turns.append(PlannedTurn(user_message=message, calls=[call], source=source))
            return Plan(goal=goal, turns=turns, rewrites=rewrites)
        goal, message, source, tries = await self._message(scenario, calls, hidden, 50)
        turn = PlannedTurn(user_message=message or "Can you help me with this?", calls=calls, source=source)
        return Plan(goal=goal, turns=[turn], withheld=withheld, rewrites=tries)

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


def varied_argument(scenario: Scenario, name: str, schema: dict[str, Any]) -> str | None:
    """For repeated calls to one tool, the one argument that varies while the rest are shared (as
    people ask: "the weather in Paris, Rome and Oslo"), in `SHARED_PARALLEL` of the scenarios;
    None means every call draws all its values."""
    rng = random.Random(f"{scenario.seed}:vary:{name}")
    scalars = [k for k, v in (schema.get("properties") or {}).items() if _scalar(v)]
    if not scalars or rng.random() >= SHARED_PARALLEL:
        return None
    return rng.choice([k for k in scalars if not CREDENTIAL_WORDS & set(words(k))] or scalars)


class _Fixed:
    """A stand-in rng for `say`: values are shown to the writer in one fixed form (ISO dates)."""

    def random(self) -> float:
        return 1.0

    def choice(self, options: Any) -> Any:
        return options[0]


def _hidden_values(calls: list[PlannedCall], hidden: set[str]) -> list[str]:
    return [str(v) for c in calls for k, v in c.arguments.items() if k in hidden and len(str(v)) >= 3]
