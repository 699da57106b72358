"""Stage: training data from the store → a new policy (TRL on CPU, OpenRLHF on Ray)."""

from __future__ import annotations

from pathlib import Path

from inftool.config import InftoolConfig, LocalGRPOConfig, LocalSFTConfig, OpenRLHFConfig
from inftool.gates.records import GatedTrajectory
from inftool.train.data import check_contamination, decision_points
from inftool.train.local import TrainResult, local_grpo, local_sft
from inftool.train.openrlhf_job import launch_command, write_job

__all__ = ["TrainResult", "check_contamination", "decision_points", "launch_command", "train", "write_job"]


def train(
    config: InftoolConfig, items: list[GatedTrajectory], round_dir: Path, cache_dir: Path
) -> TrainResult | Path | None:
    """Run the configured trainer on this round's accepted data. Returns the local result, the
    OpenRLHF job folder, or None when `trainer=none`."""
    cfg = config.trainer
    if cfg.kind == "none":
        return None
    rows = decision_points(items, verified_only=isinstance(cfg, LocalSFTConfig))
    check_contamination(rows)  # before any training: BFCL must never reach the training data
    if not rows and not isinstance(cfg, OpenRLHFConfig):
        print("trainer: skipped, no accepted decision points this round (see the gate summary)")
        return None
    out = round_dir / "train"
    if isinstance(cfg, OpenRLHFConfig):
        return write_job(items, cfg, config.gates.reward, out / "openrlhf_job")
    if isinstance(cfg, LocalGRPOConfig):
        return local_grpo(rows, cfg, config.gates.reward, out, cache_dir, config.seed)
    assert isinstance(cfg, LocalSFTConfig)
    return local_sft(rows, cfg, out, cache_dir, config.seed)
