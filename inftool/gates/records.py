"""Verdicts: every gate's result is kept on every trajectory, accepted or not."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from inftool.rollout import Trajectory

PLAN_GATE = "plan"
POLICY_GATES = ("format", "schema", "execution", "consistency")  # gates that judge the policy's own calls


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

    @property
    def plan_verified(self) -> bool:
        """The plan (the label) passed its own verification (the `plan` gate), whatever the
        policy did. Without a plan gate in the chain only an accepted episode vouches for it."""
        plan = next((g for g in self.gates if g.gate == PLAN_GATE), None)
        return plan.passed if plan is not None else self.accepted

    @property
    def side(self) -> Literal["easy", "hard", "unjudged", "refused", "dropped"]:
        """The paper's consistency split: verified plan + policy right = easy, verified plan +
        policy wrong (its calls failed a policy gate) = hard; `unjudged`: a verified plan the
        policy did not answer (synthesis.policy); `refused`: the plan is no label; `dropped`: a
        verified plan refused for another reason (a duplicate, the judge)."""
        if not self.plan_verified:
            return "refused"
        if not self.trajectory.policy:
            return "unjudged" if self.accepted else "dropped"
        if self.accepted:
            return "easy"
        failed = self.rejected_by
        return "hard" if failed is not None and failed.gate in POLICY_GATES else "dropped"
