"""Stage: the scenario mix → `Scenario` records (kind, offered tools incl. distractors, seed)."""

from inftool.scenarios.records import KINDS, ChainLink, Scenario, ScenarioKind
from inftool.scenarios.sampler import ScenarioSampler, find_chains, kinds_for

__all__ = ["KINDS", "ChainLink", "Scenario", "ScenarioKind", "ScenarioSampler", "find_chains", "kinds_for"]
