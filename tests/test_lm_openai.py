"""The `openai` backend against a real OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json

import dspy
import pytest

from inftool.config import OpenAILMConfig, RetryConfig
from inftool.errors import UserError
from inftool.lm import LMCallError, RoleLM, build_client
from inftool.lm.loopback import LoopbackServer
from inftool.lm.records import ChatRequest

CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "parameters": CITY}}
]
USER = [{"role": "user", "content": "Weather in Paris?"}]


@pytest.fixture
def server():
    srv = LoopbackServer().start()
    yield srv
    srv.stop()


def client_for(server: LoopbackServer, role: str = "assistant", **retry):
    retry_cfg = RetryConfig(**{"max_attempts": 3, "backoff_s": 0.01, "max_backoff_s": 0.05, "timeout_s": 2, **retry})
    cfg = OpenAILMConfig(model="m", base_url=server.url, retry=retry_cfg)
    return build_client(role, cfg)


def test_tools_are_sent_and_native_tool_calls_parsed(server: LoopbackServer):
    call = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    server.then(message={"content": None, "tool_calls": [call]})
    result = client_for(server).complete(ChatRequest(messages=USER, tools=TOOLS, max_tokens=32))
    sent = server.requests[-1]
    assert sent["tools"] == TOOLS and sent["tool_choice"] == "auto" and sent["max_tokens"] == 32
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [("c1", "get_weather", {"city": "Paris"})]


def test_calls_inside_content_are_parsed(server: LoopbackServer):
    server.then(message={"content": '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>'})
    result = client_for(server).complete(ChatRequest(messages=USER, tools=TOOLS))
    assert result.content is None and result.tool_calls[0].arguments == {"city": "Oslo"}


def test_text_mode_renders_tools_into_the_prompt(server: LoopbackServer):
    cfg = OpenAILMConfig(model="m", base_url=server.url, native_tools=False)
    server.then(message={"content": "[get_weather(city='Rome')]"})
    result = build_client("assistant", cfg).complete(ChatRequest(messages=USER, tools=TOOLS))
    assert "tools" not in server.requests[-1]
    assert "get_weather" in server.requests[-1]["messages"][0]["content"]
    assert result.tool_calls[0].arguments == {"city": "Rome"}


@pytest.mark.parametrize(
    "fault", [{"status": 500}, {"status": 503}, {"hang": 3}, {"raw": "<html>not json"}, {"drop": True}]
)
def test_transient_faults_are_retried(server: LoopbackServer, fault):
    server.then(**fault).then(message={"content": "recovered"})
    client = client_for(server, timeout_s=1)
    result = client.complete(ChatRequest(messages=USER))
    assert result.content == "recovered"
    assert client.stats.retries == 1 and client.stats.failures == 0


def test_persistent_faults_fail_that_call_clearly_and_the_caller_carries_on(server: LoopbackServer):
    for _ in range(3):
        server.then(status=500)
    client = client_for(server)
    with pytest.raises(LMCallError, match=r"role 'assistant'.*HTTP 500.*3 attempts"):
        client.complete(ChatRequest(messages=USER))
    assert client.complete(ChatRequest(messages=USER)).content == "ok"  # the next call works
    assert client.stats.failures == 1 and client.stats.calls == 2


def test_client_errors_are_not_retried(server: LoopbackServer):
    server.then(status=401)
    client = client_for(server)
    with pytest.raises(LMCallError, match="HTTP 401"):
        client.complete(ChatRequest(messages=USER))
    assert len(server.requests) == 1


def test_many_concurrent_calls_with_some_failures(server: LoopbackServer):
    client = client_for(server, max_attempts=1)
    for i in range(40):
        server.then(**({"status": 500} if i % 4 == 0 else {}))

    async def many():
        return await asyncio.gather(
            *(client.acomplete(ChatRequest(messages=USER)) for _ in range(40)), return_exceptions=True
        )

    results = asyncio.run(many())
    assert sum(isinstance(r, LMCallError) for r in results) == 10
    assert sum(getattr(r, "content", None) == "ok" for r in results) == 30


def test_requests_spread_over_a_fleet():
    servers = [LoopbackServer().start() for _ in range(3)]
    try:
        cfg = OpenAILMConfig(model="m", base_url=[s.url for s in servers])
        client = build_client("tools", cfg)
        for _ in range(9):
            client.complete(ChatRequest(messages=USER))
        assert [len(s.requests) for s in servers] == [3, 3, 3]
    finally:
        for s in servers:
            s.stop()


def test_unreachable_endpoint_is_found_at_startup():
    cfg = OpenAILMConfig(model="m", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(UserError, match=r"lm\.judge: cannot reach http://127\.0\.0\.1:9/v1"):
        build_client("judge", cfg)


def test_api_key_is_read_from_the_named_env_var(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("INFTOOL_TEST_KEY", raising=False)
    cfg = OpenAILMConfig(model="m", base_url=server.url, api_key_env="INFTOOL_TEST_KEY")
    with pytest.raises(UserError, match="INFTOOL_TEST_KEY"):
        build_client("user", cfg)


def test_dspy_predict_gets_native_tool_calls(server: LoopbackServer):
    call = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Lima"}'}}
    server.then(message={"content": "[[ ## completed ## ]]", "tool_calls": [call]})
    lm = RoleLM(client_for(server), temperature=0.0, max_tokens=64, cache=False)

    class Ask(dspy.Signature):
        question: str = dspy.InputField()
        tools: list[dspy.Tool] = dspy.InputField()
        calls: dspy.ToolCalls = dspy.OutputField()

    def get_weather(city: str) -> str:
        """Weather for a city."""
        return "sunny"

    predict = dspy.Predict(Ask)
    predict.set_lm(lm)
    with dspy.context(adapter=dspy.ChatAdapter(use_native_function_calling=True)):
        out = predict(question="Weather in Lima?", tools=[dspy.Tool(get_weather)])
    assert server.requests[-1]["tools"][0]["function"]["name"] == "get_weather"
    assert [(c.name, c.args) for c in out.calls.tool_calls] == [("get_weather", {"city": "Lima"})]
    assert lm.client.stats.calls == 1 and json.loads(json.dumps(lm.client.stats.as_dict()))["prompt_tokens"] == 10
