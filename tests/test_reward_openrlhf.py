"""GatedReward, and the generated OpenRLHF reward and agent files inside OpenRLHF's own executors
(openrlhf 0.11.2 installed --no-deps; vLLM cannot run here, so a fake engine returns fixed
completions: our side of that interface is OpenRLHF's real executor code)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from openrlhf.utils.agent import MultiTurnAgentExecutor, SingleTurnAgentExecutor

from inftool.config import RewardConfig
from inftool.gates.openrlhf import write_agent_file, write_reward_file
from inftool.gates.reward import GatedReward

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                "required": ["city"],
            },
        },
    }
]
LABEL = json.dumps(
    {"kind": "single", "calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}], "tools": TOOLS}
)
NO_CALL = json.dumps({"kind": "irrelevance", "calls": [], "tools": TOOLS})

CASES = [
    ('<tool_call>\n{"name": "get_weather", "arguments": {"city": "paris"}}\n</tool_call><|im_end|>', LABEL, 1.0),
    ('[get_weather(city="Paris")]', LABEL, 1.0),
    ('{"name": "get_weather", "arguments": {"city": "Rome"}}', LABEL, 0.4),
    ('{"name": "get_weather", "arguments": {"city": "Paris", "days": "two"}}', LABEL, 0.0),
    ('{"name": "get_forecast", "arguments": {"city": "Paris"}}', LABEL, 0.0),
    ('<tool_call>{"name": "get_weather", "argum', LABEL, 0.0),
    ("It is sunny in Paris.", LABEL, 0.0),
    ("I cannot book taxis with these tools.", NO_CALL, 1.0),
    ('<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>', NO_CALL, 0.0),
]  # fmt: skip


@pytest.mark.parametrize(("completion", "label", "expected"), CASES)
def test_gated_reward(completion: str, label: str, expected: float):
    assert GatedReward().score_text(completion, label) == pytest.approx(expected)


def test_trl_signature_scores_a_batch():
    reward = GatedReward(names=0.5, arguments=0.5)
    texts = [c for c, _, _ in CASES[:3]]
    assert reward(prompts=["p"] * 3, completions=texts, label=[LABEL] * 3) == [1.0, 1.0, 0.5]


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from inftool.lm.embedded import default_model_path

    path = default_model_path()
    return AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)


class FakeEngine:
    """Stands in for vLLM: returns fixed completions, tokenized by the real tokenizer."""

    def __init__(self, tokenizer, replies: list[str]) -> None:
        self.tokenizer, self.replies = tokenizer, list(replies)

    async def generate(self, token_ids, sampling_params, multi_modal_data=None):
        text = self.replies.pop(0)
        ids = self.tokenizer(text=text, add_special_tokens=False)["input_ids"]
        return SimpleNamespace(outputs=[SimpleNamespace(token_ids=ids, text=text, finish_reason="stop", logprobs=None)])


def params() -> SimpleNamespace:
    return SimpleNamespace(max_tokens=64, logprobs=None)


PROMPT = (
    "<|im_start|>system\nYou can call get_weather.<|im_end|>\n"
    "<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n"
)


@pytest.mark.parametrize(("completion", "label", "expected"), CASES)
def test_reward_file_inside_single_turn_executor(
    tmp_path: Path, tokenizer, completion: str, label: str, expected: float
):
    reward_file = write_reward_file(tmp_path / "reward.py", RewardConfig())
    executor = SingleTurnAgentExecutor(remote_rm_url=str(reward_file))
    out = asyncio.run(executor.execute(PROMPT, label, params(), 512, tokenizer, FakeEngine(tokenizer, [completion])))
    assert float(out["reward"][0]) == pytest.approx(expected)
    assert out["action_ranges"][0][1] == len(out["observation_tokens"])


def load_agent(path: Path):
    spec = importlib.util.spec_from_file_location("agent_func", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.AgentExecutor


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        (['<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>', "It is 21 C."], 1.0),
        (['<tool_call>{"name": "get_weather", "arguments": {"city": "Lima"}}</tool_call>', "It is 21 C."], 0.7),
        (["I do not know."], 0.0),
    ],
)
def test_agent_file_inside_multi_turn_executor(tmp_path: Path, tokenizer, replies: list[str], expected: float):
    agent_cls = load_agent(write_agent_file(tmp_path / "agent.py", RewardConfig()))
    assert issubclass(agent_cls, MultiTurnAgentExecutor)
    episode = {"kind": "single", "tools": TOOLS, "steps": [
        {"calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}], "results": [{"temp_c": 21}]},
        {"calls": []}]}  # fmt: skip
    engine = FakeEngine(tokenizer, replies)
    out = asyncio.run(agent_cls().execute(PROMPT, json.dumps(episode), params(), 1024, tokenizer, engine))
    assert out["reward"] == pytest.approx(expected)
    assert len(out["action_ranges"]) == len(replies) - len(engine.replies)
    if expected:
        assert "temp_c" in tokenizer.decode(out["observation_tokens"])  # the environment's tool result came back
