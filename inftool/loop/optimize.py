"""Round 0, before synthesis: compile the chosen agents (DSPy optimizers) into programs saved
beside the recipe; the config then points every later step at them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from inftool.config import InftoolConfig
from inftool.gates.reward import GatedReward
from inftool.lm import RoleLM
from inftool.loop.build import build_agents, build_gates
from inftool.rollout import Limits
from inftool.scenarios import ScenarioSampler
from inftool.specs import Toolset


def with_programs(config: InftoolConfig, programs: dict[str, str]) -> InftoolConfig:
    """The config with `agents.<role>.program` set for each role in `programs`."""
    updates = {role: getattr(config.agents, role).model_copy(update={"program": path})
               for role, path in programs.items()}  # fmt: skip
    return config.model_copy(update={"agents": config.agents.model_copy(update=updates)})


def with_saved_programs(config: InftoolConfig, recipe: Path | None) -> InftoolConfig:
    """`recipes/NAME.<agent>.json` beside the recipe is loaded when `agents.<agent>.program` is unset."""
    saved = {}
    for role in ("user", "assistant", "tools") if recipe else ():
        path = recipe.with_name(f"{recipe.stem}.{role}.json")
        if getattr(config.agents, role).program is None and path.is_file():
            print(f"agents.{role}: loading the optimized program {path}")
            saved[role] = str(path)
    return with_programs(config, saved)


def optimize_step(config: InftoolConfig, toolsets: list[Toolset], lms: dict[str, RoleLM], run_dir: Path,
                  recipe: Path | None) -> dict[str, Any]:  # fmt: skip
    """Compile the chosen agents (round 0, before synthesis); returns per agent its saved program."""
    from inftool.optimize import compile as opt
    from inftool.optimize import compile_agents, program_paths

    cfg, agents = config.optimize, build_agents(config, lms)
    sampler = ScenarioSampler(toolsets, config.scenarios.distractors, config.seed + 777, config.scenarios.personas,
                              prefix="o", near_irrelevance=config.scenarios.near_irrelevance,
                              near_distractors=config.scenarios.near_distractors)  # fmt: skip
    scenarios = sampler.sample(cfg.examples, config.scenarios.weights)
    limits = Limits.of(config.synthesis)
    trainees: dict[str, Any] = {}
    if "tools" in cfg.agents:
        trainees["tools"] = (opt.tools_trainee(agents.tools), opt.tools_examples(toolsets, cfg.examples, config.seed),
                             opt.tool_result_metric)  # fmt: skip
    if "user" in cfg.agents:
        trainees["user"] = (opt.user_trainee(agents, build_gates(config, lms), limits),
                            opt.scenario_examples(scenarios), opt.accepted_metric)  # fmt: skip
    if "assistant" in cfg.agents:
        examples = asyncio.run(opt.assistant_examples(scenarios, agents.user, agents.assistant.system_prompt))
        reward = GatedReward(config.gates.reward.names, config.gates.reward.arguments)
        trainees["assistant"] = (opt.assistant_trainee(agents.assistant), examples, opt.reward_metric(reward))
    return compile_agents(cfg, trainees, lms, program_paths(recipe, run_dir, cfg.save_to))
