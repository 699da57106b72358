"""`inftool mode=serve` as a shared server: it prints the port it really bound, keeps one episode
state per MCP session (bounded), and refuses oversized arguments before the simulator LM sees them.
The tools LM is a loopback server that records every prompt, so what reaches the LM is visible."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from inftool.agents import EpisodeState
from inftool.lm.loopback import LoopbackServer

TOKEN = "serve-test-token"
URL_LINE = re.compile(r"MCP server \(streamable HTTP\) on (http://127\.0\.0\.1:(\d+)/mcp)")


def first_match(stream: Any, pattern: re.Pattern[str], timeout: float = 120) -> re.Match[str] | None:
    """The first line of `stream` matching `pattern` (read on a thread, so a silent server cannot hang the test)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if match := pattern.search(line):
            return match


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, LoopbackServer]]:
    lm = LoopbackServer(schema_replies=True).start()
    overrides = [
        "lm@lm.tools=openai",
        "lm.tools.model=sim",
        f"lm.tools.base_url={lm.url}",
        "lm.tools.max_tokens=64",
        "agents.tools.results=lm",
    ]  # the LM writes whole results, so its prompts show each session's history
    proc = subprocess.Popen(
        [sys.executable, "-m", "inftool", "mode=serve", "toolset=workspace", "port=0", *overrides],
        cwd=tmp_path_factory.mktemp("serve"), env={**os.environ, "INFTOOL_MCP_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    match = first_match(proc.stderr, URL_LINE)
    try:
        assert match is not None, "no URL line on stderr"
        yield match.group(1), int(match.group(2)), lm
    finally:
        proc.terminate()
        proc.wait(10)
        lm.stop()


def session(url: str) -> Any:
    """One MCP session: the SDK's standard client over streamable HTTP, with the bearer token."""
    import httpx2
    from mcp.client.client import Client
    from mcp.client.streamable_http import streamable_http_client

    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
    return Client(streamable_http_client(url, http_client=http), mode="legacy")


async def calls(url: str, arguments: list[dict[str, Any]]) -> list[Any]:
    async with session(url) as client:
        return [await client.call_tool("lookup_weather", args) for args in arguments]


def prompts_since(lm: LoopbackServer, start: int) -> list[str]:
    return [json.dumps(request.get("messages")) for request in lm.requests[start:]]


def test_port_zero_prints_the_port_it_bound(served):
    url, port, _ = served
    assert port != 0
    (result,) = asyncio.run(calls(url, [{"city": "Oslo", "units": "metric"}]))  # the printed URL answers
    assert not result.is_error


def test_the_printed_port_accepts_connections_before_the_server_loop_runs(tmp_path):
    """A client that reads the URL at once must be queued, not refused (a busy machine starts the server's
    event loop late): the port listens when the URL is printed, even with the server stopped right after."""
    import signal
    import socket

    proc = subprocess.Popen(
        [sys.executable, "-m", "inftool", "mode=serve", "toolset=workspace", "port=0"], cwd=tmp_path,
        env={**os.environ, "INFTOOL_MCP_TOKEN": TOKEN}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        match = first_match(proc.stderr, URL_LINE)
        assert match is not None, "no URL line on stderr"
        proc.send_signal(signal.SIGSTOP)  # the kernel still completes the handshake for a listening socket
        with socket.create_connection(("127.0.0.1", int(match.group(2))), timeout=10):
            pass
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(10)


def test_each_session_has_its_own_episode_state(served):
    url, _, lm = served
    tag = uuid.uuid4().hex[:8]  # fresh prompts: DSPy's cache never answers them instead of the LM
    mine, theirs, later = (f"{city}-{tag}" for city in ("Atlantis", "Lemuria", "Paris"))

    async def interleaved() -> None:
        async with session(url) as a, session(url) as b:  # both open at once: two live sessions
            await a.call_tool("lookup_weather", {"city": mine, "units": "metric"})
            await b.call_tool("lookup_weather", {"city": theirs, "units": "metric"})
            await a.call_tool("lookup_weather", {"city": later, "units": "metric"})

    start = len(lm.requests)
    asyncio.run(interleaved())
    first, other, again = prompts_since(lm, start)
    assert mine in first and mine not in other  # another client never sees this session's calls
    assert mine in again and theirs not in again  # the session's own history carries over


def test_oversized_arguments_are_refused_before_the_lm(served):
    url, _, lm = served
    start = len(lm.requests)
    (result,) = asyncio.run(calls(url, [{"city": "x" * 1_000_000, "units": "metric"}]))
    assert result.is_error and prompts_since(lm, start) == []  # refused: the LM never saw it
    from inftool.mcp.server import MAX_ARGUMENT_BYTES

    assert f"at most {MAX_ARGUMENT_BYTES}" in result.content[0].text  # the error names the limit


def test_session_states_are_bounded_and_least_recently_used_go_first():
    from inftool.mcp.server import SessionStates

    states = SessionStates(max_sessions=2, max_calls=3)
    a = states.get("a")
    states.get("b")
    assert states.get("a") is a  # "a" is now the most recent
    states.get("c")
    assert list(states.states) == ["a", "c"]  # "b" was the least recently used
    a.history.extend({"call": i} for i in range(10))
    states.trim(a)
    assert a.history == [{"call": i} for i in (7, 8, 9)]
    assert states.get(None) is not states.get(None) and isinstance(states.get(None), EpisodeState)
    assert list(states.states) == ["a", "c"]  # a call outside any session keeps nothing
