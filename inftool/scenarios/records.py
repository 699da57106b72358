"""A `Scenario`: what one episode is about, decided before any LM runs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from inftool.specs import ToolSpec

ScenarioKind = Literal[
    "single", "parallel", "multiple", "parallel_multiple", "irrelevance", "multi_step", "multi_turn", "clarify"
]
KINDS: tuple[ScenarioKind, ...] = (
    "single", "parallel", "multiple", "parallel_multiple", "irrelevance", "multi_step", "multi_turn", "clarify",
)  # fmt: skip


class ChainLink(BaseModel):
    """`target.target_argument` takes its value from `source`'s result field `source_field`."""

    model_config = ConfigDict(extra="forbid")

    source: str
    source_field: str
    target: str
    target_argument: str


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: ScenarioKind
    toolset: str
    domain: str
    offered: list[ToolSpec] = Field(description="the tools the assistant sees, distractors included")
    targets: list[str] = Field(
        description="tools the plan calls, in order (for irrelevance: the unoffered tool asked for)"
    )
    calls_per_target: list[int] = Field(default_factory=list)
    chain: ChainLink | None = None
    missing_argument: str | None = Field(None, description="clarify: the required argument left out of the request")
    irrelevant_tool: ToolSpec | None = Field(None, description="irrelevance: the tool the request needs, not offered")
    persona: str = ""
    seed: int = 0

    def tool(self, name: str) -> ToolSpec:
        for tool in [*self.offered, *([self.irrelevant_tool] if self.irrelevant_tool else [])]:
            if tool.name == name:
                return tool
        raise KeyError(name)
