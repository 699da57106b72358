"""Training on the CPU with TRL: GRPO rewarded by the GatedReward, and an SFT cold start.

The starting policy is the embedded GGUF de-quantized into dense torch weights (or any local
HF checkpoint); the result is an HF checkpoint the `hf` backend loads as the next assistant.
"""

from __future__ import annotations

import json
import os
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inftool.config import LocalGRPOConfig, LocalSFTConfig, RewardConfig
from inftool.errors import UserError

# TRL 1.16 passes transformers 5 arguments it deprecates (gradient_checkpointing): not the user's to fix.
warnings.filterwarnings("ignore", message=r".*is deprecated and will be removed in v6", category=FutureWarning)
EMBEDDED_HF_CACHE = Path.home() / ".cache" / "inftool" / "smollm2-135m-hf"  # the embedded GGUF, de-quantized once


@dataclass
class TrainResult:
    checkpoint: Path
    steps: int
    seconds_per_step: float
    rewards: list[float] = field(default_factory=list)  # mean reward per logged step (GRPO)
    losses: list[float] = field(default_factory=list)
    reward_stds: list[float] = field(default_factory=list)  # within-group reward std per logged step (GRPO)
    screened_groups: dict[str, list[float]] = field(default_factory=dict)  # prompt id -> sampled rewards
    varied_by_kind: dict[str, list[int]] = field(default_factory=dict)  # GRPO: kind -> [groups varied, screened]
    rows: int = 0  # training rows the trainer drew from (GRPO: the prompts whose groups vary)
    tokens_per_second: float | None = None  # SFT: prompt + completion tokens trained on per second


def base_checkpoint(base: str | None, cache_dir: Path) -> Path:
    """`base`, or the embedded GGUF exported once into `cache_dir`."""
    if base:
        path = Path(base).expanduser()
        if not (path / "config.json").is_file():
            raise UserError(f"trainer.base: {path} is not an HF checkpoint folder (no config.json)")
        return path
    from inftool.lm.embedded import default_model_path
    from inftool.lm.hf import export_gguf_to_hf

    if not (cache_dir / "config.json").is_file():
        export_gguf_to_hf(default_model_path(), cache_dir)
    return cache_dir


def load_model(base: Path) -> tuple[Any, Any]:
    """A causal LM (fp32, for CPU training) and its tokenizer, with a pad token."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), tokenizer


def step_bar(label: str) -> Any:
    """A transformers callback: one progress bar over the optimizer steps, the last loss (and
    reward) beside it, instead of transformers printing every log dict."""
    from tqdm.auto import tqdm
    from transformers import TrainerCallback

    class StepBar(TrainerCallback):
        bar: Any = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.bar = tqdm(total=state.max_steps, desc=label, unit="step", leave=True)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.bar.update(state.global_step - self.bar.n)

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            shown = {k: f"{logs[k]:.3g}" for k in ("loss", "reward", "reward_std") if k in (logs or {})}
            if self.bar is not None and shown:
                self.bar.set_postfix(shown, refresh=False)

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.bar.close()

    return StepBar()


def quiet_train(trainer: Any, label: str = "train") -> None:
    """Train with one progress bar, without transformers printing every log dict (the loop prints
    its own summary) or its deprecation warnings about arguments TRL passes."""
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(step_bar(label))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        trainer.train()


def _save(trainer: Any, tokenizer: Any, out: Path) -> Path:
    trainer.save_model(str(out))
    tokenizer.save_pretrained(out)
    return out


@dataclass
class Group:
    """One prompt's sampled completions (token ids and their log-probabilities) and their rewards."""

    prompt_ids: list[int]
    completion_ids: list[list[int]]
    logprobs: list[list[float]]
    rewards: list[float]


def _until_eos(ids: list[int], logprobs: list[float], eos: int) -> tuple[list[int], list[float]]:
    end = ids.index(eos) + 1 if eos in ids else len(ids)  # keep the EOS, drop the padding after it
    return ids[:end], logprobs[:end]


# (training row, seed) -> a group of completions, each with whether it finished (else it was cut)
Sampler = Callable[[dict[str, Any], int], list[tuple[str, bool]]]


def policy_sampler(policy: Any, cfg: LocalGRPOConfig) -> Sampler | None:
    """GRPO's groups sampled by the served policy under its tool-call grammar, when `policy` (an LM
    config) is the embedded GGUF of the very model the trainer starts from (the embedded default for
    `base: null`; the GGUF exported beside the `base` checkpoint); None otherwise (the trainer's model
    samples freely). Free sampling at temperature 1 left ~40 % of a cpu_loop screen's call lists
    unparsable, and the evaluation decodes under the grammar."""
    from inftool.config import EmbeddedLMConfig

    if not isinstance(policy, EmbeddedLMConfig):
        return None
    path = Path(policy.model_path).expanduser() if policy.model_path else None
    same = path is None if cfg.base is None else path is not None and path.parent == Path(cfg.base).expanduser().parent
    if not same:
        return None
    from inftool.lm.embedded import EmbeddedEngine

    engine = EmbeddedEngine(policy)

    def sample(row: dict[str, Any], seed: int) -> list[tuple[str, bool]]:
        tools = json.loads(row["label"])["tools"]
        return engine.sample_decisions(row["prompt"], tools, cfg.group_size, cfg.max_new_tokens, cfg.temperature, seed)

    return sample


def token_logprobs(model: Any, prompt_ids: list[int], ids: list[int], temperature: float = 1.0) -> Any:
    """Each token of `ids`' log-probability under `model` after `prompt_ids` (logits over
    `temperature`, as the GRPO trainer computes them), as a tensor that carries gradients."""
    import torch

    logits = model(torch.tensor([prompt_ids + ids])).logits[0, len(prompt_ids) - 1 : -1] / temperature
    return torch.log_softmax(logits.float(), -1).gather(-1, torch.tensor(ids)[:, None])[:, 0]


def completion_logprobs(model: Any, prompt_ids: list[int], completions: list[list[int]],
                        temperature: float) -> list[list[float]]:  # fmt: skip
    """`token_logprobs` of each completion: the sampling log-probabilities of completions sampled
    elsewhere (TRL's importance-sampling correction reads them)."""
    import torch

    with torch.no_grad():
        return [token_logprobs(model, prompt_ids, ids, temperature).tolist() for ids in completions]


def prompt_token_ids(tokenizer: Any, prompt: list[dict[str, Any]]) -> list[int]:
    """The prompt's token ids as the policy sees them: its chat template, ready for the answer."""
    text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    return tokenizer(text).input_ids


def sample_groups(model: Any, tokenizer: Any, rows: list[dict[str, Any]], reward: Any, cfg: LocalGRPOConfig,
                  seed: int, sampler: Sampler | None = None) -> dict[str, Group]:  # fmt: skip
    """`group_size` completions per prompt with their rewards: the screen that keeps zero-variance
    groups from the trainer. Sampled by `sampler` (the served policy under its tool-call grammar, so
    every sample is a well-formed answer, as at evaluation) or, without one, by `model` itself."""
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    groups = {}
    for index, row in enumerate(tqdm(rows, desc="GRPO screen", unit="prompt")):
        prompt_ids = prompt_token_ids(tokenizer, row["prompt"])
        inputs = {"input_ids": torch.tensor([prompt_ids]), "attention_mask": torch.ones(1, len(prompt_ids), dtype=int)}
        if sampler is not None:
            sampled = sampler(row, seed * 100_003 + index)
            completions = [text for text, _ in sampled]
            ids = [tokenizer(text, add_special_tokens=False).input_ids + ([tokenizer.eos_token_id] if done else [])
                   for text, done in sampled]  # fmt: skip
            logprobs = completion_logprobs(model, prompt_ids, ids, cfg.temperature)
        else:
            with torch.no_grad():
                out = model.generate(**inputs, do_sample=True, temperature=cfg.temperature, top_k=0, top_p=1.0,
                                     max_new_tokens=cfg.max_new_tokens, num_return_sequences=cfg.group_size,
                                     pad_token_id=tokenizer.pad_token_id, return_dict_in_generate=True,
                                     output_scores=True)  # fmt: skip
                scores = model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
            sampled = [_until_eos(seq[len(prompt_ids) :].tolist(), lp.tolist(), tokenizer.eos_token_id)
                       for seq, lp in zip(out.sequences, scores, strict=True)]  # fmt: skip
            ids, logprobs = [i for i, _ in sampled], [lp for _, lp in sampled]
            completions = [tokenizer.decode(i, skip_special_tokens=True) for i in ids]
        rewards = reward(prompts=[row["prompt"]] * len(completions), completions=completions,
                         label=[row["label"]] * len(completions))  # fmt: skip
        groups[row["id"]] = Group(prompt_ids, ids, logprobs, rewards)
    return groups


class ScreenedRollouts:
    """TRL's `rollout_func`: each prompt's completions are its screened group, so the group the
    trainer scores is the one whose rewards were seen to differ (TRL would sample a new group,
    which can score the same for every sample). The groups come from the round's starting policy:
    later steps train on them slightly off-policy, each prompt once."""

    def __init__(self, groups: dict[str, Group], rows: list[dict[str, Any]]) -> None:
        self.by_prompt = {json.dumps(r["prompt"], sort_keys=True): groups[r["id"]] for r in rows}

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"prompt_ids": [], "completion_ids": [], "logprobs": []}
        served: dict[str, int] = {}
        for prompt in prompts:  # TRL repeats each prompt group_size times, in a row
            key = json.dumps(prompt, sort_keys=True)
            group, k = self.by_prompt[key], served.get(key, 0)
            served[key] = k + 1
            out["prompt_ids"].append(group.prompt_ids)
            out["completion_ids"].append(group.completion_ids[k % len(group.completion_ids)])
            out["logprobs"].append(group.logprobs[k % len(group.logprobs)])
        return out


def local_grpo(rows: list[dict[str, Any]], cfg: LocalGRPOConfig, weights: RewardConfig, out_dir: Path,
               cache_dir: Path, seed: int = 0, sampler: Sampler | None = None,
               replay: list[dict[str, Any]] | None = None) -> TrainResult | None:  # fmt: skip
    """GRPO on the prompts whose sampled groups' rewards differ, trained on those very groups;
    None when no group differs. `sampler` samples the groups (see `sample_groups`); `replay` rows
    (easy items) join the anchor, `cfg.replay` a step."""
    from inftool.gates.reward import GatedReward
    from inftool.train.data import by_kind_in_turn, reachable, row_kind, varied_groups

    if not rows:
        raise UserError("trainer: no hard decision points to practise on (see the gate summary)")
    model, tokenizer = load_model(base_checkpoint(cfg.base, cache_dir))
    reward = GatedReward(names=weights.names, arguments=weights.arguments)
    fits = reachable(rows, lambda row: len(tokenizer(sft_completion(row)["content"]).input_ids) + 1, cfg.max_new_tokens)
    if len(fits) < len(rows):
        print(f"trainer: {len(rows) - len(fits)} of {len(rows)} hard decision points need more than "
              f"trainer.max_new_tokens={cfg.max_new_tokens} tokens to answer right; left out")  # fmt: skip
    screened = by_kind_in_turn(fits)[: cfg.max_prompts * 2]
    groups = sample_groups(model, tokenizer, screened, reward, cfg, seed, sampler)
    screened_rewards = {prompt_id: g.rewards for prompt_id, g in groups.items()}
    kept = set(varied_groups(screened_rewards))
    by_kind: dict[str, list[int]] = {}
    for row in screened:
        counts = by_kind.setdefault(row_kind(row), [0, 0])
        counts[0] += row["id"] in kept
        counts[1] += 1
    shown = ", ".join(f"{kind} {varied}/{n}" for kind, (varied, n) in by_kind.items())
    print(f"trainer: {len(kept)} of {len(screened)} prompts give a group whose rewards differ "
          f"(group of {cfg.group_size}; {shown}); the rest would teach GRPO nothing")  # fmt: skip
    rows = [r for r in screened if r["id"] in kept][: cfg.max_prompts]
    if not rows:
        return None
    replayed = [(prompt_token_ids(tokenizer, r["prompt"]), answer_ids(tokenizer, r)) for r in replay or []]
    result = train_on_groups(model, tokenizer, rows, groups, reward, cfg, out_dir, seed, replayed)
    result.screened_groups, result.varied_by_kind = screened_rewards, by_kind
    return result


def train_on_groups(model: Any, tokenizer: Any, rows: list[dict[str, Any]], groups: dict[str, Group], reward: Any,
                    cfg: LocalGRPOConfig, out_dir: Path, seed: int = 0,
                    replay: Sequence[tuple[list[int], list[int]]] = ()) -> TrainResult:  # fmt: skip
    """GRPO steps over `rows`, `cfg.prompts_per_step` prompts' screened groups per step; `replay`
    ((prompt ids, answer ids) of easy items) joins the anchor, `cfg.replay` pairs a step."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    per_step = min(cfg.prompts_per_step, len(rows))
    args = GRPOConfig(
        output_dir=str(out_dir / "trl"), use_cpu=True, seed=seed, max_steps=min(cfg.steps, len(rows) // per_step),
        num_generations=cfg.group_size, per_device_train_batch_size=cfg.group_size * per_step,
        gradient_accumulation_steps=1, learning_rate=cfg.learning_rate, beta=cfg.beta,
        max_completion_length=cfg.max_new_tokens, temperature=cfg.temperature, logging_steps=1, save_strategy="no",
        report_to=[], bf16=False, disable_tqdm=True,
    )  # fmt: skip
    dataset = Dataset.from_list([{"prompt": r["prompt"], "label": r["label"]} for r in rows])
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is marked experimental in TRL 1.16
    trainer_class = GRPOTrainer
    if cfg.anchor:
        trainer_class = anchored(
            GRPOTrainer, verified_calls(tokenizer, rows, groups), cfg.anchor, Replay(list(replay), cfg.replay, seed)
        )
    trainer = trainer_class(model=model, reward_funcs=[reward], args=args, train_dataset=dataset,
                            processing_class=tokenizer, rollout_func=ScreenedRollouts(groups, rows))  # fmt: skip
    start = time.perf_counter()
    quiet_train(trainer, "GRPO")
    steps = trainer.state.global_step
    seconds = (time.perf_counter() - start) / max(1, steps)
    logs = trainer.state.log_history
    rewards = [entry["reward"] for entry in logs if "reward" in entry]
    losses = [entry["loss"] for entry in logs if "loss" in entry]
    stds = [entry["reward_std"] for entry in logs if "reward_std" in entry]
    checkpoint = _save(trainer, tokenizer, out_dir / "checkpoint")
    return TrainResult(checkpoint, steps, seconds, rewards, losses, reward_stds=stds, rows=len(rows))


def answer_ids(tokenizer: Any, row: dict[str, Any]) -> list[int]:
    """The row's verified answer as SFT teaches it, EOS-ended."""
    return [*tokenizer(sft_completion(row)["content"]).input_ids, tokenizer.eos_token_id]


def verified_calls(tokenizer: Any, rows: list[dict[str, Any]],
                   groups: dict[str, Group]) -> dict[tuple[int, ...], list[int]]:  # fmt: skip
    """Prompt token ids -> its verified call list's (as SFT teaches it, EOS-ended), for the rows
    whose plan calls; text answers (irrelevance) have none."""
    return {tuple(groups[r["id"]].prompt_ids): answer_ids(tokenizer, r)
            for r in rows if json.loads(r["label"])["calls"]}  # fmt: skip


class Replay:
    """Easy items' (prompt ids, verified answer ids), `per_step` a step, in a seeded order that
    cycles: every kind the policy already answers right, refusals included, so the anchor keeps
    the balance SFT taught instead of pulling every prompt toward calling (cpu_loop's GRPO round
    on a policy that refused well: irrelevance 67.9 -> 34.6 %, issue 13's notes)."""

    def __init__(self, pairs: list[tuple[list[int], list[int]]], per_step: int, seed: int = 0) -> None:
        self.pairs, self.per_step, self.taken = pairs, per_step if pairs else 0, 0
        random.Random(seed).shuffle(self.pairs)

    def next(self) -> list[tuple[list[int], list[int]]]:
        picked = [self.pairs[(self.taken + i) % len(self.pairs)] for i in range(self.per_step)]
        self.taken += self.per_step
        return picked


def anchored(trainer_class: type, answers: dict[tuple[int, ...], list[int]], coef: float,
             replay: Replay | None = None) -> type:  # fmt: skip
    """`trainer_class` (TRL's GRPOTrainer) whose loss adds `coef` times the mean negative
    log-likelihood of the verified calls (`answers`, by prompt token ids) of the step's call prompts.
    Only irrelevance groups reward a text answer, and a small policy carries that push to every
    prompt (the decision token is shared): cpu_loop GRPO rounds drifted from calling (issue 13's
    notes). The verified calls pull the call prompts back. Anchoring the irrelevance prompts' text
    answers too made it worse (must-call 62.5 %): their decision token is where the policy was
    wrong, so it got the pull. `replay` adds easy items' verified answers (refusals too) to the
    same mean: what the policy already answers right stays where it was."""
    import torch

    class AnchoredGRPOTrainer(trainer_class):  # type: ignore[misc, valid-type]
        def compute_loss(self, model: Any, inputs: Any, return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:  # fmt: skip
            loss = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            pairs = zip(inputs["prompt_ids"], inputs["prompt_mask"], strict=True)
            prompts = {tuple(ids[mask.bool()].tolist()) for ids, mask in pairs}  # left-padded by TRL
            nlls = [-token_logprobs(model, list(p), answers[p]).mean() for p in sorted(prompts) if p in answers]
            nlls += [-token_logprobs(model, p, a).mean() for p, a in (replay.next() if replay else [])]
            if not nlls:  # a step of irrelevance groups alone, nothing replayed
                return loss
            nll = torch.stack(nlls).mean()
            self._metrics["train"]["anchor_nll"].append(nll.item())
            return loss + coef * nll / self.current_gradient_accumulation_steps

    return AnchoredGRPOTrainer


def sft_completion(row: dict[str, Any]) -> dict[str, str]:
    """The assistant message an SFT row teaches, in the JSON the constrained decoder writes."""
    calls = json.loads(row["label"])["calls"]
    text = row.get("answer") or "I cannot do that with these tools."
    return {"role": "assistant", "content": json.dumps({"tool_calls": calls} if calls else {"answer": text})}


def local_sft(rows: list[dict[str, Any]], cfg: LocalSFTConfig, out_dir: Path, cache_dir: Path,
              seed: int = 0) -> TrainResult:  # fmt: skip
    """Cold start: the decision points' prompts completed by the accepted decisions."""

    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from inftool.train.data import spread_by_kind
    from inftool.train.decisions import weighted_sft_trainer

    if not rows:
        raise UserError("trainer: no verified plans to learn from (see the gate summary)")
    model, tokenizer = load_model(base_checkpoint(cfg.base, cache_dir))
    ordered = spread_by_kind(rows, cfg.steps * cfg.batch_size, seed)
    examples = [{"prompt": row["prompt"], "completion": [sft_completion(row)]} for row in ordered]
    args = SFTConfig(
        output_dir=str(out_dir / "trl"), use_cpu=True, seed=seed, max_steps=cfg.steps, learning_rate=cfg.learning_rate,
        train_sampling_strategy="sequential",  # `ordered` is the order: every batch holds the kinds alike
        # one row per forward pass, `batch_size` accumulated per step: the same batch without padding every row to
        # the longest (rows run from ~300 to ~1,000 tokens; on a CPU each pad token costs as much as a real one)
        per_device_train_batch_size=1, gradient_accumulation_steps=cfg.batch_size, max_length=cfg.max_length,
        logging_steps=1, save_strategy="no", report_to=[], bf16=False, disable_tqdm=True,
    )  # fmt: skip
    trainer_class = weighted_sft_trainer(SFTTrainer, cfg.decision_weight, cfg.count_weight)
    data = Dataset.from_list(examples)
    trainer = trainer_class(model=model, args=args, train_dataset=data, processing_class=tokenizer)
    start = time.perf_counter()
    quiet_train(trainer, "SFT")
    wall = time.perf_counter() - start
    logs = trainer.state.log_history
    losses = [entry["loss"] for entry in logs if "loss" in entry]
    tokens = max((entry["num_tokens"] for entry in logs if "num_tokens" in entry), default=0)  # TRL's running total
    return TrainResult(_save(trainer, tokenizer, out_dir / "checkpoint"), cfg.steps, wall / cfg.steps, losses=losses,
                       rows=len(rows), tokens_per_second=tokens / wall if tokens else None)  # fmt: skip
