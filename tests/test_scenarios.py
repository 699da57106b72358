"""Scenario sampling: kinds from weights, tools per kind, seeded."""

from __future__ import annotations

from pathlib import Path

import pytest

from inftool.errors import UserError
from inftool.scenarios import KINDS, ScenarioSampler, find_chains, kinds_for
from inftool.specs import load_toolset

SPECS = Path(__file__).resolve().parents[1] / "recipes" / "specs"


@pytest.fixture(scope="module")
def toolsets():
    files = {"travel": "travel.openapi.yaml", "finance": "finance.openai.json", "workspace": "workspace.mcp.json"}
    return [load_toolset(name, SPECS / file) for name, file in files.items()]


def test_same_seed_same_scenarios(toolsets):
    weights = dict.fromkeys(KINDS, 1.0)
    a = ScenarioSampler(toolsets, seed=7).sample(24, weights)
    b = ScenarioSampler(toolsets, seed=7).sample(24, weights)
    c = ScenarioSampler(toolsets, seed=8).sample(24, weights)
    assert [s.model_dump() for s in a] == [s.model_dump() for s in b]
    assert [s.model_dump() for s in a] != [s.model_dump() for s in c]


def test_small_runs_cover_every_weighted_kind():
    import random

    kinds = kinds_for(8, dict.fromkeys(KINDS, 1.0), random.Random(0))
    assert sorted(kinds) == sorted(KINDS)
    skewed = kinds_for(10, {"single": 3, "irrelevance": 1}, random.Random(0))
    assert skewed.count("single") > skewed.count("irrelevance") > 0 and set(skewed) == {"single", "irrelevance"}
    with pytest.raises(UserError, match="unknown kind"):
        kinds_for(4, {"singel": 1}, random.Random(0))


def test_tools_per_kind(toolsets):
    scenarios = ScenarioSampler(toolsets, distractors=2, seed=3).sample(64, dict.fromkeys(KINDS, 1.0))
    for s in scenarios:
        offered = {t.name for t in s.offered}
        if s.kind == "irrelevance":
            assert s.irrelevant_tool is not None and s.irrelevant_tool.name not in offered
            needed_in = {ts.name for ts in toolsets if s.irrelevant_tool in ts.tools}
            assert all(t not in next(ts for ts in toolsets if ts.name in needed_in).tools for t in s.offered)
        else:
            assert set(s.targets) <= offered
        if s.kind == "multiple":
            assert len(offered) > len(set(s.targets))
        if s.kind == "parallel_multiple":  # several tools, 4 calls at most, at most one tool offered unused
            assert 2 <= len(s.targets) <= 4 and sum(s.calls_per_target) <= 4
            assert len(offered) - len(s.targets) in (0, 1)
        if s.kind == "parallel":
            assert s.calls_per_target[0] >= 2
        if s.kind == "clarify":
            assert s.missing_argument in s.offered[0].parameters["required"]
        if s.kind == "multi_step":
            assert s.chain is not None and s.targets == [s.chain.source, s.chain.target]


def test_parallel_multiple_asks_for_every_tool_offered_as_bfcl_mostly_does(toolsets):
    """BFCL's parallel_multiple asks for 2-4 functions and offers one it does not ask for in 22 of 200 items:
    a decoy in every item (as before) taught the model to leave one asked-for tool out."""
    scenarios = ScenarioSampler(toolsets, distractors=1, seed=9).sample(300, {"parallel_multiple": 1})
    tools = [len(s.targets) for s in scenarios]
    unused = sum(len(s.offered) > len(s.targets) for s in scenarios) / len(scenarios)
    assert 0.03 <= unused <= 0.25
    assert set(tools) == {2, 3, 4} and tools.count(2) > tools.count(3) > tools.count(4)
    assert any(max(s.calls_per_target) == 2 for s in scenarios)  # a tool asked for twice, as in "… and for Rome"
    none = ScenarioSampler(toolsets, distractors=0, seed=9).sample(40, {"parallel_multiple": 1})
    assert all(len(s.offered) == len(s.targets) for s in none)


def test_multiple_offers_two_to_four_tools_as_bfcl_and_asks_for_one(toolsets):
    """BFCL's multiple offers 2, 3 or 4 functions (79, 85, 36 of 200): offered two alone, the model learned to call
    a distractor as well. `distractors` caps the draw; irrelevance offers one tool, as BFCL's (240 of 240)."""
    scenarios = ScenarioSampler(toolsets, distractors=3, seed=9).sample(300, {"multiple": 1})
    offered = [len(s.offered) for s in scenarios]
    assert all(len(s.targets) == 1 and s.calls_per_target == [1] for s in scenarios)
    assert set(offered) == {2, 3, 4} and offered.count(3) > offered.count(4) and offered.count(2) > offered.count(4)
    assert all(s.targets[0] in {t.name for t in s.offered} for s in scenarios)
    capped = ScenarioSampler(toolsets, distractors=1, seed=9).sample(40, {"multiple": 1, "irrelevance": 1})
    assert all(len(s.offered) == (2 if s.kind == "multiple" else 1) for s in capped)
    irrelevance = ScenarioSampler(toolsets, distractors=3, seed=9).sample(40, {"irrelevance": 1})
    assert all(len(s.offered) == 1 for s in irrelevance)


def test_near_irrelevance_offers_the_closest_same_domain_tools_that_cannot_serve_it(toolsets):
    from inftool.scenarios.sampler import NEAR_OVERLAP, nearest_unfit, topic_words

    scenarios = ScenarioSampler(toolsets, distractors=1, seed=5, near_irrelevance=1.0).sample(24, {"irrelevance": 1})
    tempting = 0
    for s in scenarios:
        home = next(ts for ts in toolsets if s.irrelevant_tool in ts.tools)
        needed = topic_words(s.irrelevant_tool)
        closest = nearest_unfit(s.irrelevant_tool, home.tools, k=4)
        for tool in s.offered:
            assert tool in home.tools and tool.name != s.irrelevant_tool.name  # BFCL's kind: same domain
            overlap = len(needed & topic_words(tool)) / len(needed | topic_words(tool))
            assert overlap <= NEAR_OVERLAP, (s.irrelevant_tool.name, tool.name)  # but not one that serves it
            if closest:  # a tool sharing topic words exists: it is the one offered (BFCL: a sculpture for a stadium)
                assert tool in closest and overlap > 0, (s.irrelevant_tool.name, tool.name)
                tempting += 1
    assert tempting >= 8  # the example specs hold such neighbours for most tools
    far = ScenarioSampler(toolsets, distractors=1, seed=5, near_irrelevance=0.0).sample(24, {"irrelevance": 1})
    assert all(t not in next(ts for ts in toolsets if s.irrelevant_tool in ts.tools).tools
               for s in far for t in s.offered)  # fmt: skip


def test_contrast_asks_for_each_refused_tool_where_it_is_offered(toolsets):
    weights = {"single": 1.0, "irrelevance": 1.0, "multiple": 1.0, "parallel_multiple": 1.0}
    plain = ScenarioSampler(toolsets, distractors=2, seed=3).sample(80, weights)
    paired = ScenarioSampler(toolsets, distractors=2, seed=3, contrast=1.0).sample(80, weights)
    assert [s.kind for s in paired] == [s.kind for s in plain]  # the mix does not move
    assert ScenarioSampler(toolsets, distractors=2, seed=3, contrast=0.0).sample(80, weights) == plain
    of = {kind: [s for s in paired if s.kind == kind] for kind in weights}
    assert all(len(items) == 20 for items in of.values())
    for single, refusal in zip(of["single"], of["irrelevance"], strict=True):  # each single is a refusal's twin
        assert [t.name for t in single.offered] == single.targets == [refusal.irrelevant_tool.name]
        assert single.toolset == refusal.toolset and single.seed != refusal.seed  # its own values: no duplicate
    for one, several in zip(of["multiple"], of["parallel_multiple"], strict=True):  # one of several, same offer
        assert sorted(t.name for t in one.offered) == sorted(t.name for t in several.offered)
        assert len(one.targets) == 1 and one.targets[0] in several.targets and one.calls_per_target == [1]

    def twins(scenarios) -> int:  # singles asking, in order, for the tools the irrelevance items need
        needed, found = [s.irrelevant_tool.name for s in scenarios if s.kind == "irrelevance"], 0
        for single in (s for s in scenarios if s.kind == "single"):
            found += found < len(needed) and single.targets == [needed[found]]
        return found

    assert twins(plain) < 5 and 4 <= twins(ScenarioSampler(toolsets, distractors=2, seed=3, contrast=0.5)
                                           .sample(80, weights)) <= 16  # fmt: skip


def test_contrast_asks_once_for_the_tool_a_parallel_item_calls_several_times(toolsets):
    weights = {"single": 1.0, "irrelevance": 1.0, "parallel": 1.0}
    plain = ScenarioSampler(toolsets, seed=4).sample(90, weights)
    paired = ScenarioSampler(toolsets, seed=4, contrast=1.0).sample(90, weights)
    assert [s.kind for s in paired] == [s.kind for s in plain]
    singles = [s for s in paired if s.kind == "single"]
    sources = [s for s in paired if s.kind in ("irrelevance", "parallel")][: len(singles)]  # in the order drawn
    assert {s.kind for s in sources} == {"irrelevance", "parallel"}
    for single, source in zip(singles, sources, strict=True):
        if source.kind == "parallel":  # the same tool offered alone, asked for once with its own values
            assert [t.name for t in single.offered] == single.targets == source.targets
            assert single.calls_per_target == [1] and source.calls_per_target[0] >= 2
        else:
            assert single.targets == [source.irrelevant_tool.name]
        assert single.toolset == source.toolset and single.seed != source.seed


def test_near_distractors_are_the_closest_tools_that_cannot_serve_the_request(toolsets):
    from inftool.scenarios.sampler import NEAR_OVERLAP, nearest_unfit, topic_words

    def overlap(a, b) -> float:
        return len(topic_words(a) & topic_words(b)) / len(topic_words(a) | topic_words(b))

    near = ScenarioSampler(toolsets, distractors=1, seed=5, near_distractors=1.0).sample(40, {"multiple": 1})
    chosen = 0
    for s in near:
        home = next(ts for ts in toolsets if any(t.name == s.targets[0] for t in ts.tools))
        target = home.tool(s.targets[0])
        (distractor,) = [t for t in s.offered if t.name != target.name]
        closest = nearest_unfit(target, home.tools, k=4)
        if closest:  # a tool on a near topic exists: it is offered, never one that could serve the request
            chosen += 1
            assert distractor in closest and 0 < overlap(target, distractor) <= NEAR_OVERLAP
    assert chosen >= 10  # the example specs hold such neighbours for most tools
    random_draws = ScenarioSampler(toolsets, distractors=1, seed=5).sample(40, {"multiple": 1})
    mean = lambda items: sum(overlap(*[t for t in s.offered]) for s in items) / len(items)  # noqa: E731
    assert mean(near) > mean(random_draws)


def test_chains_match_output_fields_to_required_arguments(toolsets):
    travel = next(ts for ts in toolsets if ts.name == "travel")
    links = {(c.source, c.source_field, c.target, c.target_argument) for c in find_chains(travel.tools)}
    assert ("searchFlights", "flight_id", "createBooking", "flight_id") in links
    assert ("createBooking", "booking_id", "getBooking", "bookingId") in links
    assert not any(c.target == "searchFlights" for c in find_chains(travel.tools))  # it takes no id
