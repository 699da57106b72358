"""The agents and the gate chain, built from their `_target_` nodes (checked against the
allow-list at start); the steps that run episodes share them."""

from __future__ import annotations

from inftool.config import InftoolConfig
from inftool.gates import GateChain
from inftool.lm import RoleLM
from inftool.rollout import Agents


def build_agents(config: InftoolConfig, lms: dict[str, RoleLM]) -> Agents:
    """Instantiate the agents from their `_target_` nodes (checked against the allow-list at start)."""
    from hydra.utils import instantiate

    built = {}
    for role in ("user", "assistant", "tools"):
        node = getattr(config.agents, role).model_dump(by_alias=True, exclude={"program"})
        agent = instantiate(node)
        program = getattr(config.agents, role).program
        if program:
            agent.load(program)
        agent.set_lm(lms[role])
        built[role] = agent
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
