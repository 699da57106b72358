"""The one tool-call parser: every shape models write calls in."""

from __future__ import annotations

import pytest

from inftool.lm.toolcalls import parse_tool_calls


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
        '{"name": "get_weather", "arguments": {"city": "Paris"}}',
        '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}',
        '[{"type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]',
        'Sure! ```json\n{"name": "get_weather", "parameters": {"city": "Paris"}}\n```',
        "[get_weather(city='Paris')]",
        'get_weather(city="Paris")',
    ],
)
def test_one_call_in_every_shape(text: str):
    calls = parse_tool_calls(text)
    assert [(c.name, c.arguments) for c in calls] == [("get_weather", {"city": "Paris"})]


def test_parallel_calls_keep_order_and_ids():
    text = (
        '<tool_call>{"name": "a", "arguments": {}}</tool_call>'
        '<tool_call>{"name": "b", "arguments": {"x": 1}}</tool_call>'
    )
    calls = parse_tool_calls(text)
    assert [(c.id, c.name) for c in calls] == [("call_0", "a"), ("call_1", "b")]
    python = parse_tool_calls("[math.add(a=1, b=2.5), math.neg(x=[1, 2])]")
    assert [(c.name, c.arguments) for c in python] == [("math.add", {"a": 1, "b": 2.5}), ("math.neg", {"x": [1, 2]})]


@pytest.mark.parametrize("text", ["", "The weather in Paris is sunny.", '{"answer": "hi"}', "[1, 2, 3]", "print(x)"])
def test_text_answers_hold_no_calls(text: str):
    assert parse_tool_calls(text) == []


def test_unparseable_arguments_are_kept_as_text_for_the_format_gate():
    calls = parse_tool_calls('{"name": "f", "arguments": "{broken"}')
    assert calls[0].name == "f" and calls[0].arguments == "{broken"


def test_string_bounds_fit_the_token_budget():
    """A string may cost a token per character (digits do): every call the grammar allows must
    fit max_tokens, or the decoder runs out mid-string and no complete call comes back."""
    from inftool.lm.constrained import string_fields, tool_call_schema

    params = {"type": "object", "properties": {"account_id": {"type": "string"}, "note": {"type": "string"},
              "kind": {"type": "string", "enum": ["a", "b"]}, "n": {"type": "integer"}}}  # fmt: skip
    assert string_fields(params) == 2
    for budget in (64, 160, 512):
        schema = tool_call_schema([{"name": "f", "parameters": params}], allow_text=False, max_tokens=budget)
        args = schema["properties"]["tool_calls"]["items"]["properties"]["arguments"]["properties"]
        strings = args["account_id"]["maxLength"] + args["note"]["maxLength"]
        assert strings + 24 <= budget or args["note"]["maxLength"] == 8
        assert "maxLength" not in args["kind"]
    unbounded = tool_call_schema([{"name": "f", "parameters": params}], allow_text=False)
    assert unbounded["properties"]["tool_calls"]["items"]["properties"]["arguments"]["properties"]["note"][
        "maxLength"] == 160  # fmt: skip
