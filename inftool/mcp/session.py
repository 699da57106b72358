"""`SimulatedSession`: one simulated MCP server and one client session on it, reused episode after
episode by one rollout worker. Opening an MCP session (server, transport, handshake) cost about as
much CPU as all of an episode's tool calls. Each episode still gets what a server of its own gave
it: the episode's offered tools and a fresh episode state; every call still goes over MCP."""

from __future__ import annotations

import contextlib
from types import TracebackType

from inftool.agents import ToolServer
from inftool.mcp.client import ToolClient, connect
from inftool.mcp.server import SessionStates, ToolTable, simulated_server
from inftool.specs import ToolSpec


class SimulatedSession:
    def __init__(self, tool_server: ToolServer) -> None:
        self.table = ToolTable([])
        self.states = SessionStates()
        self.server = simulated_server(self.table, tool_server, states=self.states)
        self._stack: contextlib.AsyncExitStack | None = None
        self._client: ToolClient | None = None

    async def episode(self, tools: list[ToolSpec]) -> ToolClient:
        """The client for the next episode: its tools offered, no earlier episode's state kept."""
        self.table.set(tools)
        self.states.clear()
        if self._client is None:  # opened on first use, in the task that closes it (anyio's rule)
            self._stack = contextlib.AsyncExitStack()
            self._client = await self._stack.enter_async_context(connect(self.server))
        return self._client

    async def reset(self) -> None:
        """Close the connection (after a failed episode: its transport may be broken); the next
        episode opens a new one."""
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            with contextlib.suppress(Exception):  # a broken transport may fail to close; it is dropped anyway
                await stack.aclose()

    async def __aenter__(self) -> SimulatedSession:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.reset()
