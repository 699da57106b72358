"""A real MCP server (the `mcp` SDK's low-level `Server`) over any list of tools.

`tools/call` refuses oversized arguments, validates the arguments against the tool's schema and
executes the call with an executor: the `ToolServer` agent (simulation), or anything with the same
signature. The simulation keeps one episode state per MCP session (the streamable-HTTP
`mcp-session-id`; a stdio or in-memory server has one session), so clients never see each other's
calls; sessions and states are bounded, since a served toolset runs for as long as it is up.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from inftool.agents import EpisodeState, ToolServer
from inftool.specs import ToolSpec

SESSION_HEADER = "mcp-session-id"
LOCAL = "local"  # the session of a one-client transport (no HTTP session id is ever this)
MAX_ARGUMENT_BYTES = 16_384  # serialized; far above any real call, and bounds what reaches the LM and the state
MAX_SESSIONS = 1024  # live sessions (the SDK refuses more) and episode states (least recently used dropped first)
MAX_STATE_CALLS = 8  # calls kept per state (the ToolServer prompt shows only the last few)

# (tool, arguments, session id) -> (result, is_error)
Executor = Callable[[ToolSpec, Any, str | None], Awaitable[tuple[dict[str, Any], bool]]]


def error_result(message: str) -> types.CallToolResult:
    payload = {"error": {"message": message}}
    return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(payload))], isError=True)


def session_id(ctx: Any) -> str | None:
    """Whose episode state a call uses: its streamable-HTTP session (`mcp-session-id`, which the SDK
    checked against its open sessions on the handshake path), LOCAL on stdio or in memory (one
    client), None for an HTTP request outside any session (a 2026 single exchange: nothing kept)."""
    request = getattr(ctx, "request", None)
    if request is None:
        return LOCAL
    if getattr(ctx, "protocol_version", None) not in HANDSHAKE_PROTOCOL_VERSIONS:
        return None  # such a request's session header was never checked: never trust it
    return request.headers.get(SESSION_HEADER)


def oversized(arguments: Any, limit: int) -> str | None:
    size = len(json.dumps(arguments, ensure_ascii=False, default=str).encode())
    return f"arguments are {size} bytes serialized; this server accepts at most {limit}" if size > limit else None


class ToolTable:
    """The tools a server lists and executes. `set` swaps them: a session reused for the next
    episode (`inftool.mcp.session`) offers that episode's tools, as a server of its own would."""

    def __init__(self, tools: list[ToolSpec]) -> None:
        self.set(tools)

    def set(self, tools: list[ToolSpec]) -> None:
        self.tools = list(tools)
        self.by_name = {tool.name: tool for tool in tools}

    def listed(self) -> list[types.Tool]:
        return [
            types.Tool(name=t.name, description=t.description or None, inputSchema=t.parameters) for t in self.tools
        ]


def build_server(
    tools: list[ToolSpec] | ToolTable,
    execute: Executor,
    name: str = "inftool",
    max_argument_bytes: int = MAX_ARGUMENT_BYTES,
) -> Server:
    table = tools if isinstance(tools, ToolTable) else ToolTable(tools)

    async def on_list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=table.listed())

    async def on_call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        by_name = table.by_name
        tool = by_name.get(params.name)
        if tool is None:
            return error_result(f"unknown tool '{params.name}' (this server has: {', '.join(by_name)})")
        too_big = oversized(params.arguments or {}, max_argument_bytes)
        if too_big:  # refused as a real API refuses an oversized body, before the simulator sees it
            return error_result(f"request too large for {tool.name}: {too_big}")
        try:
            result, is_error = await execute(tool, params.arguments or {}, session_id(ctx))
        except Exception as exc:  # an LM failure during simulation is a server error, as a real API's would be
            return error_result(f"internal error while executing {tool.name}: {type(exc).__name__}: {exc}")
        text = types.TextContent(type="text", text=json.dumps(result))
        return types.CallToolResult(content=[text], structuredContent=result, isError=is_error)

    return Server(name, on_list_tools=on_list_tools, on_call_tool=on_call_tool)


class SessionStates:
    """One `EpisodeState` per session; beyond `max_sessions` the least recently used is dropped."""

    def __init__(self, max_sessions: int = MAX_SESSIONS, max_calls: int = MAX_STATE_CALLS) -> None:
        self.max_sessions, self.max_calls = max_sessions, max_calls
        self.states: OrderedDict[str | None, EpisodeState] = OrderedDict()

    def get(self, session: str | None) -> EpisodeState:
        """The session's state, now the most recent; None (no session) gets a fresh one, kept nowhere."""
        if session is None:
            return EpisodeState()
        state = self.states.pop(session, None)
        self.states[session] = state = state if state is not None else EpisodeState()
        while len(self.states) > self.max_sessions:
            self.states.popitem(last=False)
        return state

    def clear(self) -> None:
        self.states.clear()

    def trim(self, state: EpisodeState) -> None:
        del state.history[: -self.max_calls]


def simulated_server(
    tools: list[ToolSpec] | ToolTable,
    tool_server: ToolServer,
    name: str = "inftool-sim",
    states: SessionStates | None = None,
) -> Server:
    """An MCP server whose calls the ToolServer agent simulates, with an episode state per session."""
    states = states if states is not None else SessionStates()

    async def execute(tool: ToolSpec, arguments: Any, session: str | None) -> tuple[dict[str, Any], bool]:
        state = states.get(session)
        try:
            return await tool_server.acall(tool, arguments, state)
        finally:
            states.trim(state)

    return build_server(tools, execute, name)
