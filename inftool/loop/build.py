"""The agents and the gate chain, built from their `_target_` nodes (checked against the
allow-list at start); the steps that run episodes share them."""

from __future__ import annotations

from typing import Any

from inftool.config import InftoolConfig
from inftool.gates import GateChain
from inftool.lm import RoleLM
from inftool.rollout import Agents


def build_agent(config: InftoolConfig, role: str, lm: RoleLM) -> Any:
    """One agent from its `_target_` node (checked against the allow-list at start), its saved
    program loaded (JSON only) and its role's LM set."""
    from hydra.utils import instantiate

    agent_cfg = getattr(config.agents, role)
    agent = instantiate(agent_cfg.model_dump(by_alias=True, exclude={"program"}))
    if agent_cfg.program:
        agent.load(agent_cfg.program)
    agent.set_lm(lm)
    return agent


def build_agents(config: InftoolConfig, lms: dict[str, RoleLM]) -> Agents:
    built = {role: build_agent(config, role, lms[role]) for role in ("user", "assistant", "tools")}
    models = {role: lm.client.engine.name for role, lm in lms.items()}
    return Agents(user=built["user"], assistant=built["assistant"], tools=built["tools"], models=models)


def build_gates(config: InftoolConfig, lms: dict[str, RoleLM]) -> GateChain:
    from hydra.utils import instantiate

    gates = []
    for node in config.gates.chain:
        if not node.enabled:
            continue
        gate = instantiate(node.model_dump(by_alias=True, exclude={"enabled"}))
        if hasattr(gate, "set_lm"):  # the judge gate uses the `judge` role's LM
            gate.set_lm(lms["judge"])
        gates.append(gate)
    return GateChain(gates)
