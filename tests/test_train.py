"""Training: local GRPO really changes the embedded model's weights; the OpenRLHF job is accepted
by OpenRLHF 0.11.2's own argument parser; BFCL never reaches training data."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from inftool.config import EmbeddedLMConfig, HFLMConfig, LocalGRPOConfig, OpenRLHFConfig, RewardConfig, validate
from inftool.errors import UserError
from inftool.gates.reward import GatedReward
from inftool.lm import ChatRequest, build_client
from inftool.lm.constrained import plain_messages
from inftool.recipes import compose_config
from inftool.train import check_contamination, launch_command
from inftool.train.local import (
    Group,
    Replay,
    ScreenedRollouts,
    answer_ids,
    base_checkpoint,
    completion_logprobs,
    load_model,
    local_grpo,
    policy_sampler,
    prompt_token_ids,
    sample_groups,
    train_on_groups,
    verified_calls,
)
from tests import stubs
from tests.conftest import ROOT

TOOLS = json.loads((ROOT / "recipes" / "specs" / "finance.openai.json").read_text())
CALL = {
    "id": "c0",
    "type": "function",
    "function": {"name": "get_account_balance", "arguments": '{"account_id": "A7"}'},
}
AFTER_RESULT = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What's the balance of account A7?"},
    {"role": "assistant", "content": None, "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "c0", "name": "get_account_balance", "content": '{"balance": 120.5}'},
]


def row(i: int, messages: list, calls: list) -> dict:
    prompt = plain_messages(ChatRequest(messages=messages, tools=TOOLS))
    return {"id": str(i), "prompt": prompt, "label": json.dumps({"kind": "single", "calls": calls, "tools": TOOLS})}


def first_weight(path: Path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path).model.layers[0].mlp.up_proj.weight.detach().clone()


@pytest.fixture(scope="module")
def embedded_hf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded GGUF de-quantized into an HF checkpoint, once for this file."""
    return base_checkpoint(None, tmp_path_factory.mktemp("base"))


def test_local_grpo_two_steps_changes_weights_and_the_hf_backend_loads_it(tmp_path: Path, embedded_hf: Path):
    cache = base = embedded_hf
    before = first_weight(base)
    rows = [row(0, AFTER_RESULT, []), row(1, AFTER_RESULT, [])]  # answer in text now: some samples call again
    cfg = LocalGRPOConfig(steps=2, group_size=4, max_new_tokens=48, temperature=1.2)
    result = local_grpo(rows, cfg, RewardConfig(), tmp_path / "out", cache, seed=0)
    assert result.steps == result.rows == len(result.rewards) >= 1 and result.seconds_per_step > 0
    # the trainer scored the screened groups themselves: no step saw a group whose rewards were all equal
    assert result.reward_stds and all(std > 0 for std in result.reward_stds)
    assert sum(len(set(g)) > 1 for g in result.screened_groups.values()) == result.rows
    assert result.varied_by_kind == {"single": [result.rows, len(result.screened_groups)]}
    assert (first_weight(result.checkpoint) - before).abs().max().item() > 0
    client = build_client("assistant", HFLMConfig(path=str(result.checkpoint), temperature=0.0, max_tokens=16))
    out = client.complete(ChatRequest(messages=[{"role": "user", "content": "Say hello."}]))
    assert out.completion_tokens > 0 and (out.content or out.tool_calls)


def test_each_grpo_step_trains_on_prompts_per_step_groups(tmp_path: Path, embedded_hf: Path):
    """Two screened groups per optimizer step: 4 prompts make 2 steps, and each step's logged reward
    is the mean over the 8 completions of its two groups (the groups' means are 0.25 and 0.5, so the
    steps' means sum to 0.75 whichever groups a step drew)."""
    model, tokenizer = load_model(embedded_hf)
    question = [{"role": "user", "content": "What's the balance of account A7?"}]
    right = json.dumps({"tool_calls": [{"name": "get_account_balance", "arguments": {"account_id": "A7"}}]})
    texts = {"right": right, "text": json.dumps({"answer": "I cannot."})}
    ids = {k: [*tokenizer(t).input_ids, tokenizer.eos_token_id] for k, t in texts.items()}
    rows, groups = [], {}
    for i, picks in enumerate([["right", "text", "text", "text"]] * 2 + [["right", "right", "text", "text"]] * 2):
        messages = [*question, {"role": "user", "content": f"(request {i})"}]
        rows.append(row(i, messages, [{"name": "get_account_balance", "arguments": {"account_id": "A7"}}]))
        text = tokenizer.apply_chat_template(rows[-1]["prompt"], tokenize=False, add_generation_prompt=True)
        prompt_ids = tokenizer(text).input_ids
        groups[str(i)] = Group(prompt_ids, [ids[p] for p in picks], [[-1.0] * len(ids[p]) for p in picks],
                               [1.0 if p == "right" else 0.0 for p in picks])  # fmt: skip
    cfg = LocalGRPOConfig(steps=8, group_size=4, prompts_per_step=2, max_new_tokens=48, beta=0.0)
    result = train_on_groups(model, tokenizer, rows, groups, GatedReward(), cfg, tmp_path / "out")
    assert result.steps == 2 and result.rows == 4
    assert sum(result.rewards) == pytest.approx(0.75) and all(0.25 <= r <= 0.5 for r in result.rewards)


def test_grpo_groups_sampled_by_the_served_policy_are_well_formed_answers(tmp_path: Path, embedded_hf: Path):
    """The served embedded policy samples the groups under its tool-call grammar (as it answers at
    evaluation) when it is the trainer's own model; the trainer's model scores each sample."""
    cfg = LocalGRPOConfig(group_size=3, max_new_tokens=96)
    assert policy_sampler(HFLMConfig(path=str(tmp_path)), cfg) is None
    assert policy_sampler(EmbeddedLMConfig(model_path=str(tmp_path / "other.gguf")), cfg) is None  # not base's
    sampler = policy_sampler(EmbeddedLMConfig(), cfg)  # base: null is the embedded default itself
    assert sampler is not None
    model, tokenizer = load_model(embedded_hf)
    question = [{"role": "user", "content": "What's the balance of account A7?"}]
    rows = [row(0, question, [{"name": "get_account_balance", "arguments": {"account_id": "A7"}}]),
            row(1, AFTER_RESULT, [])]  # fmt: skip
    groups = sample_groups(model, tokenizer, rows, GatedReward(), cfg, seed=0, sampler=sampler)
    assert sum(ids[-1] == tokenizer.eos_token_id for g in groups.values() for ids in g.completion_ids) >= 3
    names = {t["function"]["name"] for t in TOOLS}
    for group in groups.values():
        assert len(group.completion_ids) == len(group.rewards) == 3
        for ids, logprobs in zip(group.completion_ids, group.logprobs, strict=True):
            assert len(logprobs) == len(ids) and max(logprobs) <= 0
            if ids[-1] != tokenizer.eos_token_id:  # cut (token limit or a repetition loop): no EOS learned there
                continue
            text = tokenizer.decode(ids, skip_special_tokens=True)
            answer = json.loads(text)
            assert set(answer) in ({"tool_calls"}, {"answer"})
            assert all(call["name"] in names for call in answer.get("tool_calls", []))


def prefers_text(prompts: list, completions: list, **kwargs) -> list[float]:
    """A reward under which a text answer beats any call, as on an irrelevance prompt (TRL passes a
    conversational prompt's completions as message lists)."""
    return [float('"answer"' in (c[-1]["content"] if isinstance(c, list) else c)) for c in completions]


def prefers_call(prompts: list, completions: list, **kwargs) -> list[float]:
    """A reward under which any call beats a text answer (the push that took cpu_loop's refusals)."""
    return [1.0 - score for score in prefers_text(prompts, completions)]


def balance_groups(tokenizer, rewards: list[float]) -> tuple[list[dict], list[list[int]], list[int], dict]:
    """Two balance prompts (rows), their token ids, the verified call's ids, and each prompt's group
    of two text answers then two right calls, scored `rewards`."""
    calls = [{"name": "get_account_balance", "arguments": {"account_id": "A7"}}]
    tools = [t for t in TOOLS if t["function"]["name"] == "get_account_balance"]
    label = json.dumps({"kind": "single", "calls": calls, "tools": tools})
    rows = [{"id": str(i), "label": label, "prompt": plain_messages(ChatRequest(
        messages=[{"role": "user", "content": f"What's the balance of account A7? ({i})"}], tools=tools))}
        for i in range(2)]  # fmt: skip
    right, text = ([*tokenizer(json.dumps(answer)).input_ids, tokenizer.eos_token_id]
                   for answer in ({"tool_calls": calls}, {"answer": "I cannot."}))  # fmt: skip
    prompt_ids = [prompt_token_ids(tokenizer, r["prompt"]) for r in rows]
    completions = [text, text, right, right]
    groups = {r["id"]: Group(ids, completions, [[-1.0] * len(c) for c in completions], rewards)
              for r, ids in zip(rows, prompt_ids, strict=True)}  # fmt: skip
    return rows, prompt_ids, right, groups


def test_anchor_keeps_the_verified_call_that_grpo_alone_unlearns(tmp_path: Path, embedded_hf: Path):
    """Groups where a text answer outscores the right call (what irrelevance groups teach every
    prompt of a small policy): GRPO alone lowers the verified call's likelihood; with `anchor`, the
    verified calls' NLL in the loss raises it, from the very same groups."""
    _, tokenizer = load_model(embedded_hf)
    rows, prompt_ids, right, groups = balance_groups(tokenizer, [1.0, 1.0, 0.0, 0.0])

    def right_logprob(model) -> float:
        return sum(completion_logprobs(model, prompt_ids[0], [right], 1.0)[0]) / len(right)

    def trained(anchor: float) -> float:
        model, _ = load_model(embedded_hf)
        cfg = LocalGRPOConfig(steps=1, group_size=4, prompts_per_step=2, max_new_tokens=48, beta=0.0,
                              learning_rate=1e-5, anchor=anchor)  # fmt: skip
        assert train_on_groups(model, tokenizer, rows, groups, prefers_text, cfg, tmp_path / str(anchor)).steps == 1
        return right_logprob(model)

    assert trained(0.0) < right_logprob(load_model(embedded_hf)[0]) < trained(10.0)


def test_replay_keeps_an_easy_refusal_that_calling_groups_pull_away(tmp_path: Path, embedded_hf: Path):
    """Groups where the call outscores a text answer, anchored on the verified calls, push every
    prompt toward calling: an easy irrelevance prompt's refusal loses ground to the call (measured:
    log-odds -2.5 -> -11.0). With `replay` its verified refusal joins the anchor and keeps much of
    it (-6.1), from the very same groups."""
    tools = [t for t in TOOLS if t["function"]["name"] == "get_account_balance"]
    easy = {"id": "e", "label": json.dumps({"kind": "irrelevance", "calls": [], "tools": tools}),
            "prompt": plain_messages(ChatRequest(messages=[{"role": "user", "content": "Book me a taxi to Rome."}],
                                                 tools=tools))}  # fmt: skip
    _, tokenizer = load_model(embedded_hf)
    rows, _, right, groups = balance_groups(tokenizer, [0.0, 0.0, 1.0, 1.0])
    pair = (prompt_token_ids(tokenizer, easy["prompt"]), answer_ids(tokenizer, easy))
    assert json.loads(tokenizer.decode(pair[1][:-1])) == {"answer": "I cannot do that with these tools."}

    def refusal_margin(model) -> float:  # the refusal's log-probability over the call's, on the easy prompt
        refusal, call = completion_logprobs(model, pair[0], [pair[1], right], 1.0)
        return sum(refusal) - sum(call)

    def trained(replay: int) -> float:
        model, _ = load_model(embedded_hf)
        cfg = LocalGRPOConfig(steps=1, group_size=4, prompts_per_step=2, max_new_tokens=48, beta=0.0,
                              learning_rate=1e-5, anchor=10.0, replay=replay)  # fmt: skip
        result = train_on_groups(model, tokenizer, rows, groups, prefers_call, cfg, tmp_path / str(replay), 0, [pair])
        assert result.steps == 1
        return refusal_margin(model)

    before, plain, replayed = refusal_margin(load_model(embedded_hf)[0]), trained(0), trained(1)
    assert plain < before and replayed - plain > 2.0, (plain, before, replayed)


def test_replay_cycles_the_easy_items_in_a_seeded_order_and_needs_an_anchor():
    pairs = [([i], [i, 0]) for i in range(5)]
    replay = Replay(list(pairs), per_step=2, seed=3)
    drawn = [p for _ in range(5) for p in replay.next()]
    assert sorted(map(str, drawn[:5])) == sorted(map(str, pairs)) and drawn[5:] == drawn[:5]  # each once, then again
    assert Replay(list(pairs), per_step=5, seed=3).next() == drawn[:5]  # the seed gives the order
    assert Replay([], per_step=4).next() == []  # a round without easy items replays nothing
    with pytest.raises(ValueError, match=r"needs trainer\.anchor > 0"):
        LocalGRPOConfig(replay=2)


def test_only_the_call_prompts_are_anchored(embedded_hf: Path):
    """The anchor is the verified call list of each prompt that must call; an irrelevance prompt's
    text answer is left to GRPO (anchoring it pulled every prompt toward text)."""
    _, tokenizer = load_model(embedded_hf)
    calls = [{"name": "get_account_balance", "arguments": {"account_id": "A7"}}]
    rows = [row(0, AFTER_RESULT[:2], calls), row(1, AFTER_RESULT, [])]
    groups = {r["id"]: Group([7, int(r["id"])], [[1]], [[-1.0]], [1.0]) for r in rows}
    answers = verified_calls(tokenizer, rows, groups)
    assert list(answers) == [(7, 0)] and answers[(7, 0)][-1] == tokenizer.eos_token_id
    assert json.loads(tokenizer.decode(answers[(7, 0)][:-1])) == {"tool_calls": calls}


def test_screened_rollouts_give_each_prompt_its_own_group():
    a, b = [{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]
    groups = {"ra": Group([1, 2], [[5], [6, 0]], [[-0.1], [-0.2, -0.3]], [0.0, 1.0]),
              "rb": Group([3], [[7], [8]], [[-0.4], [-0.5]], [1.0, 0.5])}  # fmt: skip
    rollouts = ScreenedRollouts(groups, [{"id": "ra", "prompt": a}, {"id": "rb", "prompt": b}])
    out = rollouts([b, b, a, a], trainer=None)  # TRL's batch: each prompt group_size times
    assert out["prompt_ids"] == [[3], [3], [1, 2], [1, 2]]
    assert out["completion_ids"] == [[7], [8], [5], [6, 0]] and out["logprobs"][3] == [-0.2, -0.3]


def parse_with_openrlhf(argv: list[str]):
    """Run OpenRLHF's own `train_ppo_ray` argument parsing and validation, stopping before
    `train(args)` (which needs a GPU cluster). Ray, vLLM and flash-attn imports are stubbed."""
    stubs.install()
    path = Path(importlib.util.find_spec("openrlhf").submodule_search_locations[0]) / "cli" / "train_ppo_ray.py"
    source = path.read_text()
    assert source.count("\n    train(args)\n") == 1
    namespace = {"__name__": "__main__", "CAPTURED": []}
    saved = sys.argv
    sys.argv = ["train_ppo_ray", *argv]
    try:
        exec(
            compile(source.replace("\n    train(args)\n", "\n    CAPTURED.append(args)\n"), str(path), "exec"),
            namespace,
        )
    finally:
        sys.argv = saved
    return namespace["CAPTURED"][0]


@pytest.mark.parametrize(
    "overrides",
    [["recipe=paper_32b"], ["recipe=quickstart", "trainer=openrlhf_grpo", "~trainer.steps", "~trainer.max_new_tokens"]],
)
def test_generated_launch_command_passes_openrlhfs_parser(overrides: list[str], tmp_path: Path):
    config = validate(compose_config(overrides))
    assert isinstance(config.trainer, OpenRLHFConfig)
    command = launch_command(config.trainer, tmp_path)
    assert command[:3] == ["ray", "job", "submit"] and "--" in command
    module_index = command.index("-m") + 1
    assert command[module_index] == "openrlhf.cli.train_ppo_ray"
    args = parse_with_openrlhf(command[module_index + 1 :])
    assert args.algo.advantage.estimator == "group_norm"
    assert args.rollout.n_samples_per_prompt == config.trainer.flags["rollout.n_samples_per_prompt"]
    assert args.reward.remote_url == [str(tmp_path / "reward.py")]
    assert args.data.prompt_dataset == str(tmp_path / "prompts.jsonl")


def test_unknown_flag_is_rejected_by_openrlhfs_parser(tmp_path: Path):
    cfg = OpenRLHFConfig(kind="openrlhf_grpo", module="openrlhf.cli.train_ppo_ray", flags={"pretrain": "x"})
    with pytest.raises(SystemExit):
        parse_with_openrlhf(launch_command(cfg, tmp_path)[launch_command(cfg, tmp_path).index("-m") + 2 :])


def test_contamination_check_refuses_bfcl_functions_and_questions():
    from inftool.eval_data import bfcl_reference

    questions, names = bfcl_reference()
    assert len(names) > 1000 and len(questions) > 1000
    clean = row(0, AFTER_RESULT, [])
    check_contamination([clean])
    bfcl_tool = [{"type": "function", "function": {"name": "calculate_triangle_area", "parameters": {}}}]
    dirty = {**clean, "label": json.dumps({"calls": [], "tools": bfcl_tool})}
    if "calculate_triangle_area" in names:
        with pytest.raises(UserError, match="BFCL function"):
            check_contamination([dirty])
    from inftool.eval_data import bfcl_category

    question = bfcl_category("simple_python")[0][0]["question"][0][0]["content"]
    leaked = {**clean, "prompt": [{"role": "user", "content": question}]}
    with pytest.raises(UserError, match="BFCL question"):
        check_contamination([leaked])


def test_paper_recipe_writes_a_complete_openrlhf_job(tmp_path: Path):
    from inftool.lm.loopback import LoopbackServer
    from tests.conftest import run_inftool

    server = LoopbackServer(schema_replies=True, record=False).start()
    try:
        urls = [f"lm.{role}.base_url=[{server.url}]" for role in ("user", "assistant", "tools", "judge")]
        result = run_inftool(
            "recipe=paper_32b",
            "trainer.submit=false",
            "synthesis.episodes=16",
            "synthesis.concurrency=8",
            "loop.stages=[synthesize,train]",
            "gates.chain.0.verifier=false",  # the loopback LM cannot reproduce a plan: no verifier here
            "hydra.run.dir=run",
            *urls,
            cwd=tmp_path,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-2000:]
    job = tmp_path / "run" / "round_0" / "train" / "openrlhf_job"
    assert {p.name for p in job.iterdir()} >= {"prompts.jsonl", "reward.py", "agent.py", "launch.sh"}
    prompts = [json.loads(line) for line in (job / "prompts.jsonl").read_text().splitlines()]
    assert prompts and all({"prompt", "label"} <= set(p) for p in prompts)
    script = (job / "launch.sh").read_text()
    assert "ray job submit" in script and "openrlhf.cli.train_ppo_ray" in script
    assert "--algo.advantage.estimator group_norm" in script and "--ds.zero_stage 3" in script
    assert "--reward.remote_url ./reward.py" in script and str(job) not in script  # paths inside the working dir
    assert "OpenRLHF job written" in result.stdout


def test_decision_chars_mark_call_or_answer_and_each_more_or_stop():
    from inftool.train.decisions import decision_chars

    text = json.dumps({"tool_calls": [{"name": "a", "arguments": {"q": 'x}], {"'}},
                                      {"name": "b", "arguments": {"l": [1, {"z": 2}]}}]})  # fmt: skip
    # brackets inside values do not count
    assert [(text[i], kind) for i, kind in decision_chars(text)] == [("t", "call"), (",", "count"), ("]", "count")]
    answer = json.dumps({"answer": "I cannot do that, [sorry]."})
    assert [(answer[i], kind) for i, kind in decision_chars(answer)] == [("a", "call")]
    assert decision_chars("no json here") == []


def test_sft_decision_weight_weighs_the_decision_tokens_alone(tmp_path: Path, embedded_hf: Path):
    """The weighted loss is TRL's loss plus (5 - 1) x the call-or-answer token's NLL plus (3 - 1) x the
    more-or-stop tokens', each token scored where TRL scores it (the log-prob of label t + 1 at position
    t): checked against the model's logits."""
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from inftool.train.decisions import decision_weights, weighted_sft_trainer
    from inftool.train.local import sft_completion

    model, tokenizer = load_model(embedded_hf)
    calls = [{"name": "get_account_balance", "arguments": {"account_id": a}} for a in ("A7", "B9")]
    r = row(0, [{"role": "user", "content": "Balances of A7 and B9?"}], calls)
    data = Dataset.from_list([{"prompt": r["prompt"], "completion": [sft_completion(r)]}])
    args = SFTConfig(output_dir=str(tmp_path), use_cpu=True, per_device_train_batch_size=1, max_steps=1,
                     report_to=[], disable_tqdm=True, max_length=2048)  # fmt: skip
    losses, batch = {}, None
    for weights in ((1.0, 1.0), (5.0, 3.0)):
        trainer = weighted_sft_trainer(SFTTrainer, *weights)(model=model, args=args, train_dataset=data,
                                                             processing_class=tokenizer)  # fmt: skip
        batch = trainer._prepare_inputs(next(iter(trainer.get_train_dataloader())))
        model.train()
        with torch.no_grad():
            losses[weights] = trainer.compute_loss(model, dict(batch)).item()
    labels = batch["labels"][0, 1:].tolist()
    weights = decision_weights(labels, tokenizer, 5.0, 3.0)
    call = [i for i, w in enumerate(weights) if w == 5.0]
    count = [i for i, w in enumerate(weights) if w == 3.0]
    said = [tokenizer.decode([labels[i]]) for i in call + count]
    assert len(call) == 1 and len(count) == 2 and "tool" in said[0] and "," in said[1] and "]" in said[2], said
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"]).logits[0, :-1].float()
    nll = -torch.log_softmax(logits, -1)[torch.arange(len(labels)), torch.tensor(labels).clamp(min=0)]
    scored = sum(token != -100 for token in labels)
    expected = losses[(1.0, 1.0)] + (4.0 * nll[call].sum().item() + 2.0 * nll[count].sum().item()) / scored
    assert losses[(5.0, 3.0)] == pytest.approx(expected, rel=1e-3)
