"""`GateChain`: the configured gates in order; the first failure stops the chain."""

from __future__ import annotations

from collections.abc import Sequence

from inftool.gates.gates import DedupGate, Gate
from inftool.gates.records import POLICY_GATES, GatedTrajectory
from inftool.rollout import Trajectory


class GateChain:
    def __init__(self, gates: Sequence[Gate]) -> None:
        self.gates = list(gates)

    def __call__(self, traj: Trajectory) -> GatedTrajectory:
        results = []
        gates = self.gates if traj.policy else [g for g in self.gates if g.name not in (*POLICY_GATES, "judge")]
        for gate in gates:
            result = gate(traj)
            results.append(result)
            if not result.passed:
                break
        accepted = all(r.passed for r in results) and len(results) == len(gates)
        if accepted:
            for gate in self.gates:
                if isinstance(gate, DedupGate):
                    gate.remember(traj)
        return GatedTrajectory(trajectory=traj, gates=results, accepted=accepted)
