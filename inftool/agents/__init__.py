"""Stage: the three role-playing agents as DSPy modules (Signatures hold the optimizable prompts)."""

from inftool.agents.assistant import Assistant
from inftool.agents.records import Plan, PlannedCall, PlannedTurn
from inftool.agents.tool_server import EpisodeState, ToolServer, validation_error
from inftool.agents.user_simulator import UserSimulator

__all__ = [
    "Assistant", "EpisodeState", "Plan", "PlannedCall", "PlannedTurn", "ToolServer", "UserSimulator",
    "validation_error",
]  # fmt: skip
