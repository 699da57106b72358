"""Train on a round's gated trajectories; the checkpoint (exported to GGUF for the embedded
backend) and the next mix become the next round's inputs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from inftool.config import EmbeddedLMConfig, HFLMConfig, InftoolConfig, LocalGRPOConfig, TrainerConfig
from inftool.gates.records import GatedTrajectory
from inftool.loop.records import RoundInputs
from inftool.scenarios import Scenario
from inftool.train import TrainResult


def report_training(result: TrainResult | Path | None) -> None:
    if isinstance(result, Path):
        print(f"trainer: OpenRLHF job written to {result} (submit it with: bash {result / 'launch.sh'})")
    elif result is not None:
        rewards = ", ".join(f"{r:.2f}±{s:.2f}" for r, s in zip(result.rewards, result.reward_stds, strict=False))
        losses = ", ".join(f"{loss:.3f}" for loss in result.losses)
        shown = f"reward per step (mean±std in group) [{rewards}]" if result.rewards else f"loss per step [{losses}]"
        speed = f", {result.tokens_per_second:.0f} tokens/s" if result.tokens_per_second else ""
        print(f"trainer: {result.steps} steps on {result.rows} rows, {result.seconds_per_step:.1f} s/step{speed}, "
              f"{shown}")  # fmt: skip
        print(f"trainer: checkpoint {result.checkpoint} (use it: lm@lm.assistant=hf lm.assistant.path=...)")


def round_trainers(config: InftoolConfig, index: int) -> list[TrainerConfig]:
    """The trainers round `index` runs in order (`loop.schedule`; its last entry repeats)."""
    schedule = config.loop.schedule or ["trainer"]
    trainer = config.trainer
    base = {"base": trainer.base} if getattr(trainer, "base", None) else {}
    parts = {"trainer": [trainer], "none": [], "sft": [config.loop.sft.model_copy(update=base)],
             "grpo": [trainer if isinstance(trainer, LocalGRPOConfig) else LocalGRPOConfig(**base)]}  # fmt: skip
    return [t for part in schedule[min(index, len(schedule) - 1)].split("+") for t in parts[part]]


def train_step(config: InftoolConfig, items: Iterable[GatedTrajectory], round_dir: Path,
               index: int = 0) -> dict[str, Any]:  # fmt: skip
    """The round's trainers in turn, each starting from the checkpoint the one before it wrote;
    `items` is read once per trainer (the round's store streams it)."""
    from inftool.train import train
    from inftool.train.local import EMBEDDED_HF_CACHE

    record: dict[str, Any] = {"skipped": True}
    for trainer in round_trainers(config, index):
        if record.get("checkpoint") and hasattr(trainer, "base"):
            trainer = trainer.model_copy(update={"base": record["checkpoint"]})
        out = round_dir / trainer.kind if trainer.kind == "local_sft" else round_dir
        policy = None if record.get("checkpoint") else config.lm.assistant  # still the model trainer starts from
        result = train(config.model_copy(update={"trainer": trainer}), items, out, EMBEDDED_HF_CACHE, policy)
        report_training(result)
        if isinstance(result, Path):
            return {"job": str(result)}
        if result is not None:
            part = {"checkpoint": str(result.checkpoint), "steps": result.steps,
                    "seconds_per_step": result.seconds_per_step, "rewards": result.rewards,
                    "reward_stds": result.reward_stds, "losses": result.losses, "rows": result.rows,
                    "tokens_per_second": result.tokens_per_second,
                    "varied_by_kind": result.varied_by_kind}  # fmt: skip
            record = {**{k: v for k, v in record.items() if k != "skipped"}, trainer.kind: part, **part}
    if record.get("skipped"):
        return record
    if isinstance(config.lm.assistant, EmbeddedLMConfig):  # serve the policy as the base model was served
        from inftool.lm.embedded import default_model_path
        from inftool.lm.hf import export_hf_to_gguf

        template = Path(config.lm.assistant.model_path or default_model_path())
        checkpoint = Path(record["checkpoint"])
        gguf = checkpoint.parent / f"policy-{round_dir.name}.gguf"  # a name per round: caches key on it
        record["gguf"] = str(export_hf_to_gguf(checkpoint, template, gguf, config.loop.policy_dtype))
    return record


def next_inputs(config: InftoolConfig, inputs: RoundInputs, trained: dict[str, Any] | None,
                mix: dict[str, Any] | None) -> RoundInputs:  # fmt: skip
    """The trained checkpoint becomes the assistant (and the trainer's base); the gap report's
    weights and variations become the mix."""
    assistant, trainer = inputs.assistant, inputs.trainer
    if trained and trained.get("gguf") and isinstance(assistant, EmbeddedLMConfig):
        # As exported (f32 by default): requantizing would erase the small RL updates again.
        assistant = assistant.model_copy(update={"model_path": trained["gguf"], "quantize": None})
    elif trained and trained.get("checkpoint"):
        temperature = assistant.temperature
        assistant = HFLMConfig(path=trained["checkpoint"], temperature=temperature)
    if trained and trained.get("checkpoint") and hasattr(trainer, "base"):
        trainer = trainer.model_copy(update={"base": trained["checkpoint"]})
    if not mix:
        return RoundInputs(assistant, trainer, inputs.weights, inputs.domain_weights)
    variations = [Scenario.model_validate(s) for s in mix["variations"]]
    return RoundInputs(assistant, trainer, mix["weights"], mix["domain_weights"], variations)
