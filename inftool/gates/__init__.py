"""Stage: verification gates (a configured chain), the call matcher, and the gated reward."""

from inftool.gates.chain import GateChain
from inftool.gates.gates import ConsistencyGate, DedupGate, ExecutionGate, FormatGate, Gate, JudgeGate, SchemaGate
from inftool.gates.matcher import match_call, match_calls
from inftool.gates.plan import PlanGate, plan_problem
from inftool.gates.records import GatedTrajectory, GateResult

__all__ = [
    "ConsistencyGate", "DedupGate", "ExecutionGate", "FormatGate", "Gate", "GateChain", "GateResult",
    "GatedTrajectory", "JudgeGate", "PlanGate", "SchemaGate", "match_call", "match_calls", "plan_problem",
]  # fmt: skip
