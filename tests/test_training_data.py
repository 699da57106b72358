"""Training data from verified plans, not from the policy's luck (issue 13): SFT learns every
verified plan whatever the policy did; GRPO practises the hard ones in groups whose rewards differ."""

from __future__ import annotations

import json

import pytest

from inftool.gates.records import GatedTrajectory, GateResult
from inftool.rollout.records import Execution
from inftool.train.data import (
    by_kind_in_turn,
    check_contamination,
    grpo_rows,
    hard_and_easy_rows,
    reachable,
    sft_rows,
    spread_by_kind,
    varied_groups,
)
from tests.test_gates import BALANCE, PARALLEL, trajectory


def verified_but_policy_wrong() -> GatedTrajectory:
    """The plan asks for two balances and ran on the tool server; the policy asked for one."""
    traj = trajectory(
        "parallel", [BALANCE], PARALLEL, ["USER", [("get_account_balance", {"account_id": "X"}, {}, False)]]
    )
    results = [Execution(call_id=f"p{i}", name="get_account_balance", arguments={"account_id": acc},
                         result=json.dumps({"account_id": acc, "balance": 10.0 * i}), is_error=False)
               for i, acc in enumerate(["ACC-1", "ACC-2"])]  # fmt: skip
    traj = traj.model_copy(update={"plan_executions": results})
    gates = [GateResult(gate="plan", passed=True), GateResult(gate="format", passed=True),
             GateResult(gate="consistency", passed=False, reason="expected 2 calls, got 1")]  # fmt: skip
    return GatedTrajectory(trajectory=traj, gates=gates, accepted=False)


def test_sft_rows_come_from_a_verified_plan_the_policy_got_wrong():
    item = verified_but_policy_wrong()
    assert item.plan_verified and item.side == "hard"
    rows = sft_rows([item])
    assert len(rows) == 1
    label = json.loads(rows[0]["label"])
    assert sorted(c["arguments"]["account_id"] for c in label["calls"]) == ["ACC-1", "ACC-2"]  # the plan's, not X
    assert rows[0]["prompt"][-1] == {"role": "user", "content": PARALLEL[0].user_message}
    check_contamination(rows)  # the check covers these rows too
    assert grpo_rows([item]) == rows  # hard: GRPO practises it


def test_a_refused_plan_gives_no_training_row():
    item = verified_but_policy_wrong()
    refused = item.model_copy(update={"gates": [GateResult(gate="plan", passed=False, reason="ungrounded: x")]})
    assert refused.side == "refused" and sft_rows([refused]) == [] and grpo_rows([refused]) == []
    easy = item.model_copy(update={"gates": [GateResult(gate="plan", passed=True)], "accepted": True})
    assert easy.side == "easy" and len(sft_rows([easy])) == 1 and grpo_rows([easy]) == []
    hard, replay = hard_and_easy_rows([easy, item, refused])  # GRPO's rows and its replay's, in one pass
    assert hard == grpo_rows([item]) and replay == sft_rows([easy])  # the easy item alone is replayed


def test_multi_step_plan_gives_one_decision_per_call_with_the_earlier_result():
    from inftool.agents import PlannedCall, PlannedTurn

    calls = [PlannedCall(name="get_account_balance", arguments={"account_id": f"ACC-{i}"}) for i in (1, 2)]
    turns = [PlannedTurn(user_message="Balance of ACC-1, then of ACC-2.", calls=calls)]
    traj = trajectory("multi_step", [BALANCE], turns, ["USER"])
    executed = [Execution(call_id=f"p{i}", name="get_account_balance", arguments={"account_id": f"ACC-{i + 1}"},
                          result=json.dumps({"balance": i}), is_error=False) for i in range(2)]  # fmt: skip
    item = GatedTrajectory(trajectory=traj.model_copy(update={"plan_executions": executed}),
                           gates=[GateResult(gate="plan", passed=True)], accepted=False)  # fmt: skip
    rows = sft_rows([item])
    assert [json.loads(r["label"])["calls"][0]["arguments"]["account_id"] for r in rows] == ["ACC-1", "ACC-2"]
    assert rows[1]["prompt"][-1]["content"].endswith(json.dumps({"balance": 0}))  # the first result comes first


def test_no_zero_variance_group_reaches_grpo():
    groups = {"same-high": [1.0, 1.0, 1.0, 1.0], "varied": [0.0, 1.0, 0.4, 0.0], "same-low": [0.0] * 4, "one": [1.0]}
    assert varied_groups(groups) == ["varied"]


def test_grpo_screens_the_kinds_in_turn_and_only_answers_it_can_finish():
    def labelled(i: int, kind: str, calls: int) -> dict:
        call = {"name": "get_account_balance", "arguments": {"account_id": f"ACC-{i}"}}
        return {"id": f"{kind}-{i}", "label": json.dumps({"kind": kind, "calls": [call] * calls, "tools": []})}

    rows = [labelled(i, "irrelevance", 0) for i in range(4)] + [labelled(i, "parallel", 3) for i in range(2)]
    rows.append(labelled(9, "single", 1))
    # a prefix (what max_prompts keeps) holds every kind, not four irrelevance rows first
    assert [r["id"] for r in by_kind_in_turn(rows)[:3]] == ["irrelevance-0", "parallel-0", "single-9"]
    assert sorted(r["id"] for r in by_kind_in_turn(rows)) == sorted(r["id"] for r in rows)
    words = lambda row: len(json.dumps(json.loads(row["label"])["calls"]).split())  # noqa: E731  (a call: 5 words)
    assert [r["id"] for r in reachable(rows, words, 8)] == [r["id"] for r in rows if "parallel" not in r["id"]]
    assert reachable(rows, words, 15) == rows


def test_sft_order_spreads_each_kind_over_every_stretch_of_training():
    counts = {"irrelevance": 30, "single": 20, "parallel": 10}
    rows = [{"id": f"{kind}-{i}", "label": json.dumps({"kind": kind})} for kind, n in counts.items() for i in range(n)]
    order = spread_by_kind(rows, 90, seed=0)  # one and a half passes
    assert len(order) == 90 and {r["id"] for r in order} == {r["id"] for r in rows}
    for start in range(0, 90, 18):  # every fifth of the run: 9 refusals, 6 single, 3 parallel (to within one)
        stretch = [r["id"].split("-")[0] for r in order[start : start + 18]]
        assert all(abs(stretch.count(kind) - n * 18 / 60) <= 1 for kind, n in counts.items()), stretch
    firsts = [r["id"] for r in order if r["id"].startswith("irrelevance")][:30]
    assert len(set(firsts)) == 30  # each row once in a pass before any repeats
    assert order != spread_by_kind(rows, 90, seed=1) and order == spread_by_kind(rows, 90, seed=0)


def test_schedule_picks_each_rounds_trainers_and_repeats_the_last():
    from inftool.config import LocalGRPOConfig, LocalSFTConfig, validate
    from inftool.loop.train import round_trainers
    from inftool.recipes import compose_config

    config = validate(compose_config(["recipe=quickstart", "loop.schedule=[sft+grpo,grpo]", "trainer.base=/ckpt"]))
    first, later = round_trainers(config, 0), round_trainers(config, 5)
    assert [type(t) for t in first] == [LocalSFTConfig, LocalGRPOConfig] and first[0].base == "/ckpt"
    assert [type(t) for t in later] == [LocalGRPOConfig] and later[0] is config.trainer
    assert round_trainers(config.model_copy(update={"loop": config.loop.model_copy(update={"schedule": ["none"]})}),
                          0) == []  # fmt: skip


def test_loop_episodes_gives_each_round_its_count_and_repeats_the_last():
    """cpu_loop synthesizes 400 episodes for its SFT round and 120 for its GRPO round."""
    from inftool.config import validate
    from inftool.errors import UserError
    from inftool.loop import RoundInputs, ingest, round_scenarios
    from inftool.recipes import compose_config

    config = validate(compose_config(["loop.episodes=[5,3]", "synthesis.episodes=9"]))
    toolsets = ingest(config, [])
    inputs = RoundInputs(config.lm.assistant, config.trainer, config.scenarios.weights)
    assert [len(round_scenarios(config, toolsets, index, inputs)) for index in range(3)] == [5, 3, 3]
    plain = validate(compose_config(["synthesis.episodes=4"]))  # no loop.episodes: every round the same
    assert [len(round_scenarios(plain, toolsets, index, inputs)) for index in range(2)] == [4, 4]
    with pytest.raises(UserError, match=r"loop\.episodes"):
        validate(compose_config(["loop.episodes=[400,0]"]))


def test_a_plan_only_episode_is_its_plans_conversation_and_no_policy_gate_judges_it():
    """synthesis.policy=never: no assistant LM call; the verified plan, played out with the
    results the tool server gave it, is the episode; its side is `unjudged` and its SFT rows are
    exactly what a policy episode of the same plan gives."""
    import asyncio

    from inftool.agents import Assistant, ToolServer, UserSimulator
    from inftool.config import validate
    from inftool.loop.build import build_gates
    from inftool.recipes import compose_config
    from inftool.rollout import Agents, Limits, run_episode
    from inftool.scenarios import ScenarioSampler
    from inftool.specs import load_toolset
    from tests.test_scenarios import SPECS

    toolsets = [
        load_toolset("finance", SPECS / "finance.openai.json"),
        load_toolset("travel", SPECS / "travel.openapi.yaml"),
    ]
    kinds = {"single": 1.0, "parallel": 1.0, "multiple": 1.0, "irrelevance": 1.0, "multi_step": 1.0}
    scenarios = ScenarioSampler(toolsets, distractors=1, seed=9).sample(10, kinds)
    agents = Agents(UserSimulator(message="template"), Assistant(), ToolServer(text="template"), models={})
    chain = build_gates(validate(compose_config([])), {"judge": None})  # verifier and judge off: no LM
    sides, kinds_seen = [], set()
    for scenario in scenarios:  # no LM is set on any agent: any LM call would fail the episode
        traj = asyncio.run(run_episode(scenario, agents, Limits(max_turns=1, policy=False)))
        assert traj.status == "completed", traj.failure
        assert not traj.policy and traj.executions == [] and "assistant" not in traj.usage
        item = chain(traj)
        assert [g.gate for g in item.gates] == ["plan", "dedup"]  # format … consistency judge the policy: not run
        sides.append(item.side)
        rows = sft_rows([item])
        assert rows and rows == sft_rows([item.model_copy(update={"accepted": False})])
        kinds_seen.add(scenario.kind)
        reply = traj.messages[2]
        if scenario.kind == "irrelevance":
            assert reply == {"role": "assistant", "content": traj.plan.reply("irrelevance")}
        else:  # the planned calls (a chain's one at a time), each answered by the result the plan got
            steps = [m["tool_calls"] for m in traj.messages if m["role"] == "assistant"]
            planned = [c.name for c in traj.plan.turns[0].calls]
            assert [c["function"]["name"] for step in steps for c in step] == planned
            assert len(steps) == (len(planned) if scenario.kind == "multi_step" else 1)
            tool_results = [m["content"] for m in traj.messages if m["role"] == "tool"]
            assert tool_results == [e.result for e in traj.plan_executions]
    assert set(sides) == {"unjudged"} and kinds_seen == set(kinds)


def test_policy_auto_answers_only_in_rounds_that_train_grpo():
    from inftool.config import validate
    from inftool.loop.rounds import with_policy
    from inftool.recipes import compose_config

    config = validate(compose_config(["loop.schedule=[sft,sft+grpo,none]", "synthesis.policy=auto"]))
    assert [with_policy(config, i).synthesis.policy for i in range(4)] == ["never", "always", "never", "never"]
    fixed = validate(compose_config(["loop.schedule=[sft]"]))
    assert with_policy(fixed, 0).synthesis.policy == "always"  # the default: the policy always answers
