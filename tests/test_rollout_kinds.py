"""One episode per scenario kind with the real embedded model, through the real wiring
(composed quickstart config → agents from `_target_`s → MCP → trajectories)."""

from __future__ import annotations

import pytest

from inftool.config import validate
from inftool.lm import build_lms, configure_cache
from inftool.loop import RoundInputs, ingest, round_scenarios, synthesize_round
from inftool.recipes import compose_config
from inftool.scenarios import KINDS


@pytest.fixture(scope="module")
def trajectories(tmp_path_factory: pytest.TempPathFactory):
    run_dir = tmp_path_factory.mktemp("kinds")
    config = validate(compose_config(["synthesis.episodes=8", "synthesis.concurrency=2", "seed=5"]))
    configure_cache(run_dir)
    toolsets = ingest(config, [])
    scenarios = round_scenarios(config, toolsets, 0, RoundInputs(config.lm.assistant, config.trainer,
                                                                 config.scenarios.weights))  # fmt: skip
    items = synthesize_round(config, scenarios, build_lms(config.lm), run_dir)
    stored = [p for p in (run_dir / "data").glob("*ed-*.jsonl")]  # accepted and rejected shards
    assert sum(p.read_text().count("\n") for p in stored) == 8
    assert all(item.gates for item in items)  # every trajectory carries its gate verdicts
    return {item.trajectory.scenario.kind: item.trajectory for item in items}


def test_every_kind_ran_once(trajectories):
    assert sorted(trajectories) == sorted(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_episode_has_its_kinds_shape(trajectories, kind: str):
    traj = trajectories[kind]
    scenario, plan = traj.scenario, traj.plan
    assert traj.status == "completed", traj.failure
    assert traj.messages[0]["role"] == "system" and traj.messages[1] == {
        "role": "user",
        "content": plan.turns[0].user_message,
    }
    offered = {t.name for t in scenario.offered}
    planned = [call for turn in plan.turns for call in turn.calls]
    assert all(call.name in offered for call in planned)
    assert traj.usage["user"]["calls"] >= 1 and traj.models["assistant"].startswith("embedded:")  # the message
    assert len(traj.plan_executions) == len(planned)  # the plan ran on the tool server before the policy
    if kind == "irrelevance":
        assert planned == [] and scenario.irrelevant_tool.name not in offered
    elif kind == "parallel":
        assert len(planned) >= 2 and len({c.name for c in planned}) == 1
    elif kind == "multiple":
        assert len(offered) > len({c.name for c in planned})
    elif kind == "parallel_multiple":
        assert len({c.name for c in planned}) >= 2 and len(planned) >= 2
    elif kind == "multi_step":
        first, second = planned
        ((argument, source),) = second.bindings.items()
        assert source == f"call_0.{scenario.chain.source_field}" and argument == scenario.chain.target_argument
        source_fields = scenario.tool(first.name).output_schema
        assert scenario.chain.source_field in str(source_fields)  # the value comes from the first call's result
    elif kind == "multi_turn":
        assert len(plan.turns) == 2
        users = [m["content"] for m in traj.messages if m["role"] == "user"]
        assert users == [turn.user_message for turn in plan.turns]
    elif kind == "clarify":
        ((argument, value),) = plan.withheld.items()
        assert argument == scenario.missing_argument and argument in scenario.offered[0].parameters["required"]
        assert str(value) not in plan.turns[0].user_message
        asked = [i for i, m in enumerate(traj.messages) if m["role"] == "assistant" and not m.get("tool_calls")]
        if asked and asked[0] + 1 < len(traj.messages):  # the user's reply reveals the value
            assert str(value) in traj.messages[asked[0] + 1]["content"]
