"""Trainees (an agent plus a sync `forward` over its real async code), gate-based metrics, and
the compile step."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import dspy

from inftool.agents import ToolServer
from inftool.agents.tool_server import EpisodeState, result_schema
from inftool.config import OptimizeConfig
from inftool.gates import GateChain
from inftool.gates.reward import GatedReward
from inftool.lm import RoleLM
from inftool.lm.loopback import minimal_instance
from inftool.rollout import Agents, Limits
from inftool.rollout.episode import run_episode
from inftool.scenarios import Scenario
from inftool.specs import Toolset, ToolSpec
from inftool.specs.schema import validation_error

Metric = Callable[..., float]  # (example, prediction, trace=None, *GEPA's pred_name, pred_trace)


def tool_result_metric(example: dspy.Example, prediction: dspy.Prediction, trace: Any = None, *_: Any) -> float:
    """1 when the simulated result fits the tool's result schema and echoes the ids it was given."""
    if prediction.is_error or not isinstance(prediction.result, dict):
        return 0.0
    tool = ToolSpec.model_validate_json(example.tool)
    schema = result_schema(tool)
    if validation_error(tool.model_copy(update={"parameters": schema}), prediction.result) is not None:
        return 0.0
    arguments = json.loads(example.arguments)
    ids = {k: v for k, v in arguments.items() if k.lower().endswith("id") and k in prediction.result}
    return float(all(prediction.result[k] == v for k, v in ids.items()))


def tools_trainee(server: ToolServer) -> dspy.Module:
    class ToolServerTrainee(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.agent = server

        def forward(self, tool: str, arguments: str) -> dspy.Prediction:
            spec = ToolSpec.model_validate_json(tool)
            result, is_error = asyncio.run(self.agent.aforward(spec, json.loads(arguments), EpisodeState()))
            return dspy.Prediction(result=result, is_error=is_error)

    return ToolServerTrainee()


def tools_examples(toolsets: Sequence[Toolset], n: int, seed: int) -> list[dspy.Example]:
    """Valid calls (minimal schema instances) of tools sampled from the pool."""
    tools = [t for ts in toolsets for t in ts.tools if validation_error(t, minimal_instance(t.parameters)) is None]
    picked = random.Random(seed).sample(tools, min(n, len(tools)))
    return [
        dspy.Example(tool=t.model_dump_json(), arguments=json.dumps(minimal_instance(t.parameters))).with_inputs(
            "tool", "arguments"
        )
        for t in picked
    ]


def user_trainee(agents: Agents, chain: GateChain, limits: Limits) -> dspy.Module:
    """The user simulator; its metric runs the whole episode with the other agents fixed."""

    class UserSimulatorTrainee(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.agent = agents.user

        def forward(self, scenario: str) -> dspy.Prediction:
            episode = replace(agents, user=self.agent)
            traj = asyncio.run(run_episode(Scenario.model_validate_json(scenario), episode, limits))
            item = chain(traj)
            return dspy.Prediction(accepted=item.accepted, rejected_by=item.rejected_by)

    return UserSimulatorTrainee()


def accepted_metric(example: dspy.Example, prediction: dspy.Prediction, trace: Any = None, *_: Any) -> float:
    return float(prediction.accepted)


def scenario_examples(scenarios: Sequence[Scenario]) -> list[dspy.Example]:
    return [dspy.Example(scenario=s.model_dump_json()).with_inputs("scenario") for s in scenarios]


def assistant_trainee(assistant: Any) -> dspy.Module:
    class AssistantTrainee(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.agent = assistant

        def forward(self, messages: str, tools: str) -> dspy.Prediction:
            result = asyncio.run(self.agent.acall(json.loads(messages), json.loads(tools), seed=0))
            return dspy.Prediction(calls=[(c.name, c.arguments) for c in result.tool_calls], text=result.content or "")

    return AssistantTrainee()


def reward_metric(reward: GatedReward) -> Metric:
    def metric(example: dspy.Example, prediction: dspy.Prediction, trace: Any = None, *_: Any) -> float:
        return reward.score_calls(prediction.calls, example.label, prediction.text)

    return metric


async def assistant_examples(scenarios: Sequence[Scenario], user: Any, system_prompt: str) -> list[dspy.Example]:
    """First decisions labelled by the user simulator's plans (what the assistant should do)."""
    examples = []
    for scenario in scenarios:
        try:
            plan = await user.acall(scenario)
        except Exception:
            continue
        tools = [t.openai_tool() for t in scenario.offered]
        calls = [{"name": c.name, "arguments": c.arguments} for c in plan.first_decision(scenario.kind)]
        first = plan.turns[0].user_message
        messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": first}]
        label = json.dumps({"kind": scenario.kind, "calls": calls, "tools": tools})
        example = dspy.Example(messages=json.dumps(messages), tools=json.dumps(tools), label=label)
        examples.append(example.with_inputs("messages", "tools"))
    return examples


def program_paths(recipe: Path | None, run_dir: Path, save_to: str) -> Callable[[str], Path]:
    """Where agent `role`'s compiled program goes: beside the recipe, or in the run dir."""
    if save_to == "recipe" and recipe is not None:
        return lambda role: recipe.with_name(f"{recipe.stem}.{role}.json")
    return lambda role: run_dir / "optimize" / f"{role}.json"


def build_optimizer(cfg: OptimizeConfig, metric: Metric, lms: dict[str, RoleLM]) -> Any:
    from hydra.utils import instantiate

    node = cfg.optimizer.model_dump(by_alias=True)
    extra: dict[str, Any] = {"metric": metric}
    if node["_target_"].endswith("GEPA"):
        extra["reflection_lm"] = lms[cfg.reflection_role]
    elif node["_target_"].endswith("MIPROv2"):
        extra["prompt_model"] = extra["task_model"] = lms[cfg.reflection_role]
    return instantiate(node, **extra)


def compile_agents(cfg: OptimizeConfig, trainees: dict[str, tuple[dspy.Module, list[dspy.Example], Metric]],
                   lms: dict[str, RoleLM], path_for: Callable[[str], Path]) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Compile each trainee, save its agent's program; returns per agent the path and the
    metric before and after on the training examples."""
    report = {}
    for role, (trainee, examples, metric) in trainees.items():
        before = _score(trainee, examples, metric)
        optimizer = build_optimizer(cfg, metric, lms)
        kwargs = {"valset": examples} if cfg.optimizer.target.endswith("GEPA") else {}
        compiled = optimizer.compile(trainee, trainset=examples, **kwargs)
        compiled.agent.set_lm(lms[role])  # optimizers hand back a fresh copy without the LM
        after = _score(compiled, examples, metric)
        kept = compiled if after >= before else trainee  # never ship a program that scores worse
        path = path_for(role)
        path.parent.mkdir(parents=True, exist_ok=True)
        kept.agent.save(str(path))
        demos = sum(len(p.demos) for _, p in kept.agent.named_predictors())
        report[role] = {"program": str(path), "metric_before": before, "metric_after": after, "demos": demos,
                        "kept": "compiled" if kept is compiled else "original"}  # fmt: skip
        print(f"optimize {role}: metric {before:.2f} -> {after:.2f} on {len(examples)} examples; kept the "
              f"{report[role]['kept']} program ({demos} demos): {path}")  # fmt: skip
    return report


def _score(program: dspy.Module, examples: Sequence[dspy.Example], metric: Metric) -> float:
    scores = []
    for example in examples:
        try:
            scores.append(metric(example, program(**example.inputs())))
        except Exception:  # a failing run scores 0, as the optimizers count it
            scores.append(0.0)
    return sum(scores) / len(scores) if scores else 0.0
