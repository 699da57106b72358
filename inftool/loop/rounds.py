"""The round driver: each round's steps in order, each behind its marker; then the loop's
summary (RUN/loop_summary.json), its table and RUN/report.html."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from inftool.config import InftoolConfig, LMConfig, TrainerConfig
from inftool.data import TrajectoryStore
from inftool.loop.evaluate import Evaluator
from inftool.loop.markers import SUMMARY, step, write_json
from inftool.loop.optimize import optimize_step, with_programs
from inftool.loop.records import RoundInputs
from inftool.loop.reweight import reweight
from inftool.loop.shards import connect
from inftool.loop.synthesize import round_scenarios, synthesize_step
from inftool.loop.train import next_inputs, round_trainers, train_step
from inftool.specs import Toolset


def with_assistant(config: InftoolConfig, assistant: LMConfig, trainer: TrainerConfig) -> InftoolConfig:
    return config.model_copy(update={"lm": config.lm.model_copy(update={"assistant": assistant}), "trainer": trainer})


def with_policy(config: InftoolConfig, index: int) -> InftoolConfig:
    """`synthesis.policy: auto` made concrete for round `index`: the assistant answers only in a
    round that trains GRPO (its hard items are the policy's failures); an SFT round learns from
    verified plans alone and skips every assistant LM call."""
    if config.synthesis.policy != "auto":
        return config
    grpo = any(t.kind.endswith("grpo") for t in round_trainers(config, index))
    synthesis = config.synthesis.model_copy(update={"policy": "always" if grpo else "never"})
    return config.model_copy(update={"synthesis": synthesis})


def run_rounds(config: InftoolConfig, toolsets: list[Toolset], run_dir: Path,
               recipe: Path | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The closed loop; returns one record per round (its steps' markers)."""
    from inftool.lm import build_lms, configure_cache, usage_table, write_usage

    configure_cache(run_dir)
    lms = build_lms(config.lm)  # an unreachable endpoint stops the run here, before any episode
    stages, evaluator = set(config.loop.stages), Evaluator(config, toolsets, run_dir)
    if config.engine.kind == "ray" and "synthesize" in stages:
        connect()  # so does a missing Ray or an unreachable RAY_ADDRESS, before the baseline evaluation
    inputs = RoundInputs(config.lm.assistant, config.trainer, config.scenarios.weights)
    served = config.lm.assistant  # the config lms["assistant"] was built from
    history: list[dict[str, Any]] = []
    seen: list[TrajectoryStore] = []  # earlier rounds' stores: read again when needed, never held

    def serve(assistant: LMConfig) -> InftoolConfig:
        nonlocal served
        round_config = with_assistant(config, assistant, inputs.trainer)
        if assistant != served:
            lms["assistant"] = build_lms(round_config.lm, roles=("assistant",))["assistant"]
            served = assistant
        return round_config

    compiled: dict[str, Any] = {}
    if "optimize" in stages:  # round 0, first: the compiled programs serve every later step
        compiled = step(run_dir / "round_0", "optimize", optimize_step, config, toolsets, lms, run_dir, recipe)
        config = with_programs(config, {role: r["program"] for role, r in compiled.items()})
    for index in range(config.loop.rounds):
        round_dir = run_dir / f"round_{index}"
        round_config = serve(inputs.assistant)
        record: dict[str, Any] = {"round": index, "weights": inputs.weights, "domain_weights": inputs.domain_weights}
        if index == 0 and compiled:
            record["optimize"] = compiled
        latest_eval = None
        if index == 0 and "eval" in stages and config.loop.baseline:
            latest_eval = record["baseline"] = step(round_dir, "baseline", evaluator, round_config, lms,
                                                    round_dir / "baseline")  # fmt: skip
        if "synthesize" in stages:
            scenarios = round_scenarios(config, toolsets, index, inputs)
            earlier = itertools.chain.from_iterable(s.read("accepted") for s in seen)
            record["synthesize"] = step(round_dir, "synthesize", synthesize_step, with_policy(round_config, index),
                                        scenarios, lms, round_dir, earlier)  # fmt: skip
        trained = None
        if "synthesize" in stages or "train" in stages:  # the round's items stream from its store
            with TrajectoryStore(round_dir / "data", config.data.shard_lines) as items:  # reading needs no handle
                if "train" in stages:
                    trained = record["train"] = step(round_dir, "train", train_step, round_config, items, round_dir,
                                                     index)  # fmt: skip
            seen.append(items)
        after = next_inputs(config, inputs, trained, None)
        if "eval" in stages and after.assistant != inputs.assistant:
            latest_eval = record["eval"] = step(round_dir, "eval", evaluator, serve(after.assistant), lms,
                                                round_dir / "eval")  # fmt: skip
        mix = None
        if "reweight" in stages and latest_eval and latest_eval.get("heldout"):
            mix = record["reweight"] = step(round_dir, "reweight", reweight, config, evaluator, round_dir, inputs,
                                            index)  # fmt: skip
        history.append(record)
        write_json(run_dir / SUMMARY, history)  # each finished round: a killed run still has its table
        inputs = next_inputs(config, inputs, trained, mix)
    print()
    print(usage_table(lms))
    write_usage(lms, run_dir)
    finish(history, run_dir)
    return history


def finish(history: list[dict[str, Any]], run_dir: Path) -> None:
    from inftool.report import loop_table, write_report

    print()  # RUN/loop_summary.json is already written: the last round rewrote it
    print(loop_table(history))
    print(f"report: {write_report(history, run_dir)}")
