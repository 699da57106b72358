"""What passes from one round to the next."""

from __future__ import annotations

from dataclasses import dataclass, field

from inftool.config import LMConfig, TrainerConfig
from inftool.scenarios import Scenario


@dataclass
class RoundInputs:
    """What a round starts from: the policy and the mix the previous round left behind."""

    assistant: LMConfig
    trainer: TrainerConfig
    weights: dict[str, float]
    domain_weights: dict[str, float] | None = None
    variations: list[Scenario] = field(default_factory=list)
