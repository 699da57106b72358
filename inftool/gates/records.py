"""Verdicts: every gate's result is kept on every trajectory, accepted or not."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from inftool.rollout import Trajectory


class GateResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gate: str
    passed: bool
    reason: str = ""


class GatedTrajectory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trajectory: Trajectory
    gates: list[GateResult] = Field(default_factory=list)
    accepted: bool = False

    @property
    def id(self) -> str:
        return self.trajectory.id

    @property
    def rejected_by(self) -> GateResult | None:
        return next((g for g in self.gates if not g.passed), None)
