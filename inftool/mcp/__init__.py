"""Stage: a real MCP server over any toolset (simulated by the ToolServer agent, or external),
and the client side the rollout uses."""

from inftool.mcp.client import ExternalServer, ToolClient, ToolOutcome, connect
from inftool.mcp.server import build_server, simulated_server
from inftool.mcp.session import SimulatedSession

__all__ = [
    "ExternalServer", "SimulatedSession", "ToolClient", "ToolOutcome", "build_server", "connect", "simulated_server",
]  # fmt: skip
