"""A real MCP server (the `mcp` SDK's low-level `Server`) over any list of tools.

`tools/call` validates the arguments against the tool's schema and executes the call with
an executor: the `ToolServer` agent (simulation, state kept per server instance, so one
server per episode isolates episodes), or anything with the same signature.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types
from mcp.server.lowlevel.server import Server

from inftool.agents import EpisodeState, ToolServer
from inftool.specs import ToolSpec

Executor = Callable[[ToolSpec, Any], Awaitable[tuple[dict[str, Any], bool]]]


def error_result(message: str) -> types.CallToolResult:
    payload = {"error": {"message": message}}
    return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(payload))], isError=True)


def build_server(tools: list[ToolSpec], execute: Executor, name: str = "inftool") -> Server:
    by_name = {tool.name: tool for tool in tools}
    listed = [types.Tool(name=t.name, description=t.description or None, inputSchema=t.parameters) for t in tools]

    async def on_list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def on_call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        tool = by_name.get(params.name)
        if tool is None:
            return error_result(f"unknown tool '{params.name}' (this server has: {', '.join(by_name)})")
        try:
            result, is_error = await execute(tool, params.arguments or {})
        except Exception as exc:  # an LM failure during simulation is a server error, as a real API's would be
            return error_result(f"internal error while executing {tool.name}: {type(exc).__name__}: {exc}")
        text = types.TextContent(type="text", text=json.dumps(result))
        return types.CallToolResult(content=[text], structuredContent=result, isError=is_error)

    return Server(name, on_list_tools=on_list_tools, on_call_tool=on_call_tool)


def simulated_server(tools: list[ToolSpec], tool_server: ToolServer, name: str = "inftool-sim") -> Server:
    """An MCP server whose calls the ToolServer agent simulates, with its own episode state."""
    state = EpisodeState()

    async def execute(tool: ToolSpec, arguments: Any) -> tuple[dict[str, Any], bool]:
        return await tool_server.acall(tool, arguments, state)

    return build_server(tools, execute, name)
