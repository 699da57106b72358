"""MCP for real: an external stdio server executes calls; the simulated server speaks streamable
HTTP to the SDK's standard client and refuses requests without the bearer token."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from inftool.agents import Assistant, ToolServer, UserSimulator
from inftool.config import OpenAILMConfig
from inftool.lm import RoleLM, build_client
from inftool.lm.loopback import LoopbackServer, free_port
from inftool.loop import list_external
from inftool.mcp import ExternalServer
from inftool.rollout import Agents, Limits, run_episode
from inftool.scenarios import ScenarioSampler

CALC_SERVER = '''
from mcp.server.mcpserver import MCPServer

server = MCPServer("calc")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


server.run()
'''


def lm_for(server: LoopbackServer, role: str) -> RoleLM:
    return RoleLM(build_client(role, OpenAILMConfig(model=role, base_url=server.url)), temperature=0.0, max_tokens=64)


def test_external_stdio_server_executes_the_calls(tmp_path: Path):
    script = tmp_path / "calc_server.py"
    script.write_text(CALC_SERVER)
    external = ExternalServer(command=[sys.executable, str(script)])
    toolset = list_external("calc", external)
    assert [t.name for t in toolset.tools] == ["add"] and toolset.tool("add").parameters["required"] == ["a", "b"]

    user, assistant = LoopbackServer(schema_replies=True).start(), LoopbackServer().start()
    call = {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1234, "b": 4321}'}}
    assistant.then(message={"content": None, "tool_calls": [call]}).then(message={"content": "It is 5555."})
    try:
        agents = Agents(UserSimulator(), Assistant(), ToolServer(), models={})
        agents.user.set_lm(lm_for(user, "user"))
        agents.assistant.set_lm(lm_for(assistant, "assistant"))
        scenario = ScenarioSampler([toolset], seed=0).sample(1, {"single": 1})[0]
        traj = asyncio.run(run_episode(scenario, agents, Limits(), external))
    finally:
        user.stop()
        assistant.stop()
    assert traj.status == "completed", traj.failure
    assert traj.executions[0].name == "add" and not traj.executions[0].is_error
    assert "5555" in traj.executions[0].result  # computed by the external server, not simulated
    tool_messages = [m for m in traj.messages if m["role"] == "tool"]
    assert tool_messages and "5555" in tool_messages[0]["content"] and tool_messages[0]["tool_call_id"] == "c1"


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory):
    port, token = free_port(), "test-token-123"
    cwd = tmp_path_factory.mktemp("serve")
    proc = subprocess.Popen(
        [sys.executable, "-m", "inftool", "mode=serve", "toolset=workspace", f"port={port}", "lm.tools.max_tokens=96"],
        cwd=cwd, env={**os.environ, "INFTOOL_MCP_TOKEN": token}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}/mcp", token
    proc.terminate()
    proc.wait(10)


def test_http_server_refuses_requests_without_the_token(http_server):
    url, _ = http_server
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}  # fmt: skip
    headers = {"Accept": "application/json, text/event-stream"}
    assert httpx.post(url, json=initialize, headers=headers).status_code == 401
    wrong = httpx.post(url, json=initialize, headers={**headers, "Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_http_server_answers_a_standard_mcp_client(http_server):
    import httpx2
    from mcp.client.client import Client
    from mcp.client.streamable_http import streamable_http_client

    url, token = http_server

    async def session() -> tuple:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
        async with Client(streamable_http_client(url, http_client=http), mode="legacy") as client:
            listed = await client.list_tools()
            good = await client.call_tool("lookup_weather", {"city": "Paris", "units": "metric"})
            bad = await client.call_tool("lookup_weather", {"units": "kelvin"})
            return listed, good, bad

    listed, good, bad = asyncio.run(session())
    assert {t.name for t in listed.tools} == {
        "read_file",
        "write_file",
        "list_directory",
        "lookup_weather",
        "compose_email",
    }
    assert not good.is_error and isinstance(json.loads(good.content[0].text), dict)
    assert bad.is_error and "invalid arguments" in bad.content[0].text
