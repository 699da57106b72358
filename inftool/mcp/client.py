"""The client side: every tool call of a rollout goes through an MCP `ClientSession`.

`connect(target)` opens an in-process server over the SDK's in-memory transport (real
JSON-RPC framing), an external server as a stdio command, or a streamable-HTTP URL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from mcp.client._memory import InMemoryTransport
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.server.lowlevel.server import Server

from inftool.specs import ToolSpec
from inftool.specs.normalize import function_name


@dataclass
class ToolOutcome:
    text: str
    structured: dict[str, Any] | None
    is_error: bool


@dataclass
class ExternalServer:
    """An MCP server inftool does not simulate: a stdio command or a streamable-HTTP URL."""

    command: list[str] | None = None
    url: str | None = None
    env: dict[str, str] | None = None
    headers: dict[str, str] | None = None

    def describe(self) -> str:
        return self.url or " ".join(self.command or [])


class ToolClient:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def list_tools(self) -> list[ToolSpec]:
        listed = await self.client.list_tools()
        return [
            ToolSpec(
                name=function_name(t.name),
                description=t.description or "",
                parameters=dict(t.input_schema) if t.input_schema else {"type": "object", "properties": {}},
                output_schema=dict(t.output_schema) if getattr(t, "output_schema", None) else None,
                source=f"mcp:{t.name}",
            )
            for t in listed.tools
        ]

    async def call(self, name: str, arguments: dict[str, Any] | str) -> ToolOutcome:
        if not isinstance(arguments, dict):  # unparseable arguments never reach the server
            return ToolOutcome(json.dumps({"error": {"message": "arguments are not a JSON object"}}), None, True)
        result = await self.client.call_tool(name, arguments)
        text = "\n".join(getattr(part, "text", "") for part in result.content) or json.dumps(result.structured_content)
        return ToolOutcome(text, result.structured_content, bool(result.is_error))


@asynccontextmanager
async def connect(target: Server | ExternalServer) -> AsyncIterator[ToolClient]:
    if isinstance(target, Server):
        transport: Any = InMemoryTransport(target)
    elif target.url:
        transport = target.url
    else:
        assert target.command, "an external MCP server needs a command or a url"
        transport = StdioServerParameters(command=target.command[0], args=target.command[1:], env=target.env)
    async with Client(transport, mode="legacy") as client:
        yield ToolClient(client)
