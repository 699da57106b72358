"""Training on the CPU with TRL: GRPO rewarded by the GatedReward, and an SFT cold start.

The starting policy is the embedded GGUF de-quantized into dense torch weights (or any local
HF checkpoint); the result is an HF checkpoint the `hf` backend loads as the next assistant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inftool.config import LocalGRPOConfig, LocalSFTConfig, RewardConfig
from inftool.errors import UserError

EMBEDDED_HF_CACHE = Path.home() / ".cache" / "inftool" / "smollm2-135m-hf"  # the embedded GGUF, de-quantized once


@dataclass
class TrainResult:
    checkpoint: Path
    steps: int
    seconds_per_step: float
    rewards: list[float] = field(default_factory=list)  # mean reward per logged step (GRPO)
    losses: list[float] = field(default_factory=list)


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


def _load(base: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), tokenizer


def _save(trainer: Any, tokenizer: Any, out: Path) -> Path:
    trainer.save_model(str(out))
    tokenizer.save_pretrained(out)
    return out


def local_grpo(rows: list[dict[str, Any]], cfg: LocalGRPOConfig, weights: RewardConfig, out_dir: Path,
               cache_dir: Path, seed: int = 0) -> TrainResult:  # fmt: skip
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from inftool.gates.reward import GatedReward

    if not rows:
        raise UserError("trainer: no accepted decision points to train on (see the gate summary)")
    model, tokenizer = _load(base_checkpoint(cfg.base, cache_dir))
    args = GRPOConfig(
        output_dir=str(out_dir / "trl"), use_cpu=True, seed=seed, max_steps=cfg.steps,
        num_generations=cfg.group_size, per_device_train_batch_size=cfg.group_size, gradient_accumulation_steps=1,
        learning_rate=cfg.learning_rate, beta=cfg.beta, max_completion_length=cfg.max_new_tokens,
        temperature=cfg.temperature, logging_steps=1, save_strategy="no", report_to=[], bf16=False,
        disable_tqdm=True,
    )  # fmt: skip
    dataset = Dataset.from_list([{"prompt": r["prompt"], "label": r["label"]} for r in rows[: cfg.max_prompts]])
    reward = GatedReward(names=weights.names, arguments=weights.arguments)
    trainer = GRPOTrainer(
        model=model, reward_funcs=[reward], args=args, train_dataset=dataset, processing_class=tokenizer
    )
    start = time.perf_counter()
    trainer.train()
    seconds = (time.perf_counter() - start) / cfg.steps
    logs = trainer.state.log_history
    rewards = [entry["reward"] for entry in logs if "reward" in entry]
    losses = [entry["loss"] for entry in logs if "loss" in entry]
    checkpoint = _save(trainer, tokenizer, out_dir / "checkpoint")
    return TrainResult(checkpoint, cfg.steps, seconds, rewards, losses)


def local_sft(rows: list[dict[str, Any]], cfg: LocalSFTConfig, out_dir: Path, cache_dir: Path,
              seed: int = 0) -> TrainResult:  # fmt: skip
    """Cold start: the decision points' prompts completed by the accepted decisions."""
    import json

    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    if not rows:
        raise UserError("trainer: no accepted decision points to train on (see the gate summary)")
    model, tokenizer = _load(base_checkpoint(cfg.base, cache_dir))
    examples = []
    for row in rows:
        calls = json.loads(row["label"])["calls"]
        answer = (
            json.dumps({"tool_calls": calls}) if calls else json.dumps({"answer": "I cannot do that with these tools."})
        )
        examples.append({"prompt": row["prompt"], "completion": [{"role": "assistant", "content": answer}]})
    args = SFTConfig(
        output_dir=str(out_dir / "trl"), use_cpu=True, seed=seed, max_steps=cfg.steps, learning_rate=cfg.learning_rate,
        per_device_train_batch_size=cfg.batch_size, max_length=cfg.max_length, logging_steps=1, save_strategy="no",
        report_to=[], bf16=False, disable_tqdm=True,
    )  # fmt: skip
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(examples), processing_class=tokenizer)
    start = time.perf_counter()
    trainer.train()
    seconds = (time.perf_counter() - start) / cfg.steps
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return TrainResult(_save(trainer, tokenizer, out_dir / "checkpoint"), cfg.steps, seconds, losses=losses)
