"""Train on a round's gated trajectories; the checkpoint (exported to GGUF for the embedded
backend) and the next mix become the next round's inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inftool.config import EmbeddedLMConfig, HFLMConfig, InftoolConfig
from inftool.gates.records import GatedTrajectory
from inftool.loop.records import RoundInputs
from inftool.scenarios import Scenario
from inftool.train import TrainResult


def report_training(result: TrainResult | Path | None) -> None:
    if isinstance(result, Path):
        print(f"trainer: OpenRLHF job written to {result} (submit it with: bash {result / 'launch.sh'})")
    elif result is not None:
        rewards = ", ".join(f"{r:.2f}" for r in result.rewards) or "n/a"
        print(f"trainer: {result.steps} steps, {result.seconds_per_step:.1f} s/step, reward per step [{rewards}]")
        print(f"trainer: checkpoint {result.checkpoint} (use it: lm@lm.assistant=hf lm.assistant.path=...)")


def train_step(config: InftoolConfig, items: list[GatedTrajectory], round_dir: Path) -> dict[str, Any]:
    from inftool.train import train
    from inftool.train.local import EMBEDDED_HF_CACHE

    result = train(config, items, round_dir, EMBEDDED_HF_CACHE)
    report_training(result)
    if isinstance(result, Path):
        return {"job": str(result)}
    if result is None:
        return {"skipped": True}
    record: dict[str, Any] = {"checkpoint": str(result.checkpoint), "steps": result.steps,
                              "seconds_per_step": result.seconds_per_step, "rewards": result.rewards}  # fmt: skip
    if isinstance(config.lm.assistant, EmbeddedLMConfig):  # serve the policy as the base model was served
        from inftool.lm.embedded import default_model_path
        from inftool.lm.hf import export_hf_to_gguf

        template = Path(config.lm.assistant.model_path or default_model_path())
        gguf = round_dir / "train" / f"policy-{round_dir.name}.gguf"  # a name per round: caches key on it
        record["gguf"] = str(export_hf_to_gguf(result.checkpoint, template, gguf, config.loop.policy_dtype))
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
