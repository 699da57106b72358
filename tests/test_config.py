"""Every recipe composes and validates; errors name the key (torchtune-style config tests)."""

from __future__ import annotations

import pytest

from inftool.config import InftoolConfig, validate
from inftool.errors import UserError
from inftool.recipes import compose_config, expand_sweeps, list_recipes


@pytest.mark.parametrize("recipe", sorted(list_recipes()))
def test_every_recipe_composes_and_validates(recipe: str):
    config = validate(compose_config([f"recipe={recipe}"]))
    assert isinstance(config, InftoolConfig)


@pytest.mark.parametrize("role", ["user", "assistant", "tools", "judge"])
@pytest.mark.parametrize("backend", ["embedded", "openai", "hf"])
def test_each_lm_option_fits_each_role(role: str, backend: str):
    extra = {"openai": [f"lm.{role}.model=m"], "hf": [f"lm.{role}.path=/ckpt"], "embedded": []}[backend]
    config = validate(compose_config([f"lm@lm.{role}={backend}", *extra]))
    assert getattr(config.lm, role).backend == backend


def test_missing_required_value_names_the_key():
    with pytest.raises(UserError, match=r"lm\.assistant\.model"):
        validate(compose_config(["lm@lm.assistant=openai"]))


def test_unknown_key_inside_union_member_lists_that_members_keys():
    with pytest.raises(UserError, match=r"'lm\.user\.temprature'.*temperature"):
        validate(compose_config(["+lm.user.temprature=0.1"]))


def test_sweep_expansion_checks_every_value():
    runs = expand_sweeps(["seed=1,2,3", "synthesis.episodes=4"])
    assert ["seed=1", "synthesis.episodes=4"] in runs and ["seed=3", "synthesis.episodes=4"] in runs


@pytest.mark.parametrize("key", ["decision_weight", "count_weight"])
def test_sft_loss_weights_are_bounded_numbers(key: str):
    """A recipe sets a number here and nothing else: no code, no name to load, no runaway value."""
    with pytest.raises(UserError, match=rf"loop\.sft\.{key}.*less than or equal to 100"):
        validate(compose_config([f"loop.sft.{key}=500"]))
    with pytest.raises(UserError, match=rf"loop\.sft\.{key}"):
        validate(compose_config([f"loop.sft.{key}=os.system"]))
    assert getattr(validate(compose_config([f"loop.sft.{key}=2.5"])).loop.sft, key) == 2.5
