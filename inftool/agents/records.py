"""The user simulator's plan: the ground truth an episode is checked against."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class PlannedCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    bindings: dict[str, str] = Field(
        default_factory=dict, description="argument -> 'call_N.field': the value comes from an earlier call's result"
    )


class PlannedTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_message: str
    calls: list[PlannedCall] = Field(default_factory=list)
    source: Literal["lm", "template"] = Field(
        "lm", description="who wrote the message: the LM, or the template (no LM writing carried every value)"
    )


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    goal: str
    turns: list[PlannedTurn]
    withheld: dict[str, Any] = Field(default_factory=dict, description="clarify: values left out of the first message")
    rewrites: int = Field(0, description="LM messages written again because they did not carry their values")

    def reply(self, kind: str) -> str:
        """The planned assistant's text where its first decision makes no call: the question for
        the withheld value (clarify), the refusal (irrelevance); empty otherwise."""
        if kind == "clarify":
            return f"Could you tell me the {', '.join(self.withheld) or 'details'}?"
        return "None of the tools I have can do that, sorry." if kind == "irrelevance" else ""

    def first_decision(self, kind: str) -> list[PlannedCall]:
        """What the assistant should do first: the first turn's calls, except that a chain's
        later call needs the first result (multi_step), a missing value must be asked for
        (clarify) and no offered tool fits (irrelevance)."""
        if kind in ("clarify", "irrelevance") or not self.turns:
            return []
        calls = self.turns[0].calls
        return calls[:1] if kind == "multi_step" else list(calls)
