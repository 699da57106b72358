"""Stage: training data from the store → a new policy (TRL on CPU, OpenRLHF on Ray)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from inftool.config import InftoolConfig, LMConfig, LocalGRPOConfig, LocalSFTConfig, OpenRLHFConfig
from inftool.gates.records import GatedTrajectory
from inftool.train.data import check_contamination, grpo_rows, hard_and_easy_rows, sft_rows
from inftool.train.local import TrainResult, local_grpo, local_sft, policy_sampler
from inftool.train.openrlhf_job import launch_command, write_job

__all__ = ["TrainResult", "check_contamination", "grpo_rows", "launch_command", "sft_rows", "train",
           "write_job"]  # fmt: skip


def train(
    config: InftoolConfig,
    items: Iterable[GatedTrajectory],
    round_dir: Path,
    cache_dir: Path,
    policy: LMConfig | None = None,
) -> TrainResult | Path | None:
    """Run the configured trainer on this round's data: SFT on every verified plan's decisions,
    local GRPO on the hard ones (verified plan, policy wrong). Returns the local result, the
    OpenRLHF job folder, or None when `trainer=none` or there is nothing to learn from. `items`
    may be the round's store: rows are drawn from it one item at a time. `policy` is the served LM
    of the model the trainer starts from, if it serves it: local GRPO samples its groups there."""
    cfg = config.trainer
    if cfg.kind == "none":
        return None
    replay: list[dict[str, Any]] = []
    if isinstance(cfg, LocalGRPOConfig) and cfg.replay:
        rows, replay = hard_and_easy_rows(items)
    else:
        rows = grpo_rows(items) if cfg.kind in ("local_grpo", "openrlhf_grpo") else sft_rows(items)
    check_contamination([*rows, *replay])  # before any training: BFCL must never reach the training data
    if not rows and not isinstance(cfg, OpenRLHFConfig):
        what = "verified plans" if isinstance(cfg, LocalSFTConfig) else "hard items (verified plan, policy wrong)"
        print(f"trainer: skipped, no {what} this round (see the gate summary)")
        return None
    out = round_dir / "train"
    if isinstance(cfg, OpenRLHFConfig):
        return write_job(rows, cfg, config.gates.reward, out / "openrlhf_job")
    if isinstance(cfg, LocalGRPOConfig):
        return local_grpo(
            rows, cfg, config.gates.reward, out, cache_dir, config.seed, policy_sampler(policy, cfg), replay
        )
    assert isinstance(cfg, LocalSFTConfig)
    return local_sft(rows, cfg, out, cache_dir, config.seed)
