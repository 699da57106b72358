"""Stage: `Scenario` → `Trajectory` (user ⇄ assistant ⇄ tools over MCP), many at once."""

from inftool.rollout.engine import run_synthesis, summary_table, synthesize
from inftool.rollout.episode import Agents, Limits, run_episode
from inftool.rollout.records import Execution, Trajectory

__all__ = ["Agents", "Execution", "Limits", "Trajectory", "run_episode", "run_synthesis", "summary_table", "synthesize"]
