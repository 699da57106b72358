"""Rollout over instant loopback LM servers: isolation, limits, the JSONL stream, the summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inftool.agents import Assistant, ToolServer, UserSimulator
from inftool.config import OpenAILMConfig, RetryConfig
from inftool.lm import RoleLM, build_client
from inftool.lm.loopback import LoopbackServer
from inftool.rollout import Agents, Limits, run_synthesis, summary_table
from inftool.scenarios import KINDS, ScenarioSampler
from inftool.specs import load_toolset

SPECS = Path(__file__).resolve().parents[1] / "recipes" / "specs"


@pytest.fixture
def servers():
    started = {role: LoopbackServer(schema_replies=True).start() for role in ("user", "assistant", "tools")}
    yield started
    for server in started.values():
        server.stop()


def agents_for(servers: dict[str, LoopbackServer]) -> Agents:
    built = {"user": UserSimulator(), "assistant": Assistant(), "tools": ToolServer()}
    for role, agent in built.items():
        retry = RetryConfig(max_attempts=1, timeout_s=5)
        client = build_client(role, OpenAILMConfig(model=role, base_url=servers[role].url, retry=retry))
        agent.set_lm(RoleLM(client, temperature=0.0, max_tokens=64, cache=False))
    return Agents(**built, models={role: role for role in built})


def scenarios(n: int):
    toolsets = [
        load_toolset("travel", SPECS / "travel.openapi.yaml"),
        load_toolset("work", SPECS / "workspace.mcp.json"),
    ]
    return ScenarioSampler(toolsets, seed=1).sample(n, dict.fromkeys(KINDS, 1.0))


def test_episodes_complete_and_stream_to_jsonl(servers, tmp_path: Path):
    out = tmp_path / "trajectories.jsonl"
    trajectories = run_synthesis(scenarios(16), agents_for(servers), Limits(3, 4), 8, out, progress=False)
    assert all(t.status == "completed" for t in trajectories), [t.failure for t in trajectories]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 16 and {line["id"] for line in lines} == {t.id for t in trajectories}
    for traj in trajectories:
        roles = [m["role"] for m in traj.messages]
        assert roles[:2] == ["system", "user"] and traj.usage["user"]["calls"] >= 2
        if traj.scenario.kind != "irrelevance":
            assert "tool" in roles and traj.executions  # every call went through MCP to the simulator
            call_ids = {c["id"] for m in traj.messages if m.get("tool_calls") for c in m["tool_calls"]}
            assert {m["tool_call_id"] for m in traj.messages if m["role"] == "tool"} <= call_ids
    table = summary_table(trajectories)
    assert "total" in table and "16" in table


def test_a_failing_lm_fails_only_its_episodes(servers, tmp_path: Path):
    servers["assistant"].then(status=500).then(status=500)  # the first two requests fail for good (1 attempt)
    trajectories = run_synthesis(
        scenarios(8), agents_for(servers), Limits(3, 4), 1, tmp_path / "t.jsonl", progress=False
    )
    failed = [t for t in trajectories if t.status == "failed"]
    assert len(failed) == 2 and len(trajectories) == 8
    assert all(t.failure.startswith("assistant: LMCallError") and "HTTP 500" in t.failure for t in failed)
    assert "assistant: LMCallError" in summary_table(trajectories)


def test_call_limit_stops_a_looping_assistant(servers, tmp_path: Path):
    call = {"id": "c", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.txt"}'}}
    for _ in range(50):
        servers["assistant"].then(message={"content": None, "tool_calls": [call]})
    toolset = load_toolset("work", SPECS / "workspace.mcp.json")
    single = [s for s in ScenarioSampler([toolset], seed=2).sample(8, {"single": 1}) if s.targets == ["read_file"]][:1]
    assert single
    traj = run_synthesis(single, agents_for(servers), Limits(10, 3), 1, tmp_path / "t.jsonl", progress=False)[0]
    assert traj.status == "completed" and len(traj.executions) == 3
