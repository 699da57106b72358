"""A `Trajectory`: one episode, in OpenAI chat format, with everything needed to check it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from inftool.agents import Plan
from inftool.scenarios import Scenario


class Execution(BaseModel):
    """One tool call as the MCP server answered it."""

    model_config = ConfigDict(extra="forbid")

    call_id: str
    name: str
    arguments: dict[str, Any] | str
    result: str
    is_error: bool


class Trajectory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    scenario: Scenario
    plan: Plan | None = None
    messages: list[dict[str, Any]] = Field(
        default_factory=list, description="system/user/assistant/tool, OpenAI format"
    )
    tools: list[dict[str, Any]] = Field(default_factory=list, description="the offered tools, OpenAI format")
    executions: list[Execution] = Field(default_factory=list)
    plan_executions: list[Execution] = Field(
        default_factory=list, description="the plan's own calls, run on the tool server before the policy acts"
    )
    policy: bool = Field(
        True, description="false: the assistant did not act (synthesis.policy); the messages are the plan's own"
    )
    status: Literal["completed", "failed"] = "completed"
    failure: str | None = None
    usage: dict[str, dict[str, int]] = Field(default_factory=dict, description="per role: calls and tokens")
    timings: dict[str, float] = Field(default_factory=dict)
    models: dict[str, str] = Field(default_factory=dict)
