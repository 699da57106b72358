"""Evaluate a round's assistant: BFCL per configured category and the held-out synthetic set
(built once per run, from the round-0 agents)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inftool.config import InftoolConfig
from inftool.eval.heldout import (
    HeldoutItem,
    build_heldout,
    heldout_summary,
    heldout_table,
    load_or_build_heldout,
    score_heldout,
)
from inftool.lm import RoleLM
from inftool.loop.build import build_agents
from inftool.rollout import Agents
from inftool.specs import Toolset


def evaluate_bfcl_step(
    config: InftoolConfig, client: Any, out_dir: Path, system: str | None = None
) -> dict[str, float]:
    """BFCL accuracy of `client` per configured category, under the policy's system prompt `system`
    (default: the Assistant's own); per-item results in OUT/bfcl.jsonl."""
    from inftool.eval import SYSTEM, accuracy_table, evaluate_bfcl

    cfg = config.eval
    accuracy = evaluate_bfcl(client, cfg.categories, out_dir / "bfcl.jsonl", cfg.limit, cfg.seed, cfg.concurrency,
                             max_steps=cfg.multi_turn_steps, system=system or SYSTEM)  # fmt: skip
    print(accuracy_table(accuracy))
    return accuracy


class Evaluator:
    """BFCL + the held-out set for whichever assistant a round has; the set is built once."""

    def __init__(self, config: InftoolConfig, toolsets: list[Toolset], run_dir: Path) -> None:
        self.config, self.toolsets, self.run_dir = config, toolsets, run_dir
        self.items: list[HeldoutItem] | None = None

    def heldout(self, agents: Agents) -> list[HeldoutItem]:
        if self.items is None:
            cfg, config = self.config.loop.heldout, self.config

            def build() -> list[HeldoutItem]:
                return build_heldout(self.toolsets, agents.user, agents.assistant.system_prompt, cfg.items, cfg.seed,
                                     config.scenarios.weights, config.scenarios.distractors,
                                     config.scenarios.personas, config.synthesis.concurrency,
                                     config.scenarios.near_irrelevance, config.scenarios.near_distractors)  # fmt: skip

            self.items = load_or_build_heldout(self.run_dir / "heldout" / "items.jsonl", build) if cfg.items else []
        return self.items

    def __call__(self, config: InftoolConfig, lms: dict[str, RoleLM], out_dir: Path) -> dict[str, Any]:
        from inftool.eval import bfcl_summary

        record: dict[str, Any] = {"assistant": lms["assistant"].client.engine.name}
        agents = build_agents(config, lms)
        if config.eval.categories:  # under the prompt the policy runs (and is trained) with, optimized or not
            bfcl = evaluate_bfcl_step(config, lms["assistant"].client, out_dir, agents.assistant.system_prompt)
            record["bfcl"], record["bfcl_summary"] = bfcl, bfcl_summary(bfcl)
        items = self.heldout(agents)
        if items:
            results = score_heldout(items, agents.assistant, out_dir / "heldout.jsonl", config.eval.concurrency,
                                    config.seed)  # fmt: skip
            record["heldout"] = heldout_summary(results)
            print(heldout_table(record["heldout"]))
        return record
