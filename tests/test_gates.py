"""Gates on hand-built trajectories: each passes the right episode and names why it fails a wrong one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inftool.agents import Plan, PlannedCall, PlannedTurn
from inftool.gates import ConsistencyGate, DedupGate, ExecutionGate, FormatGate, GateChain, SchemaGate
from inftool.rollout import Execution, Trajectory
from inftool.scenarios import ChainLink, Scenario
from inftool.specs import load_toolset

SPECS = Path(__file__).resolve().parents[1] / "recipes" / "specs"
TRAVEL = load_toolset("travel", SPECS / "travel.openapi.yaml")
FINANCE = load_toolset("finance", SPECS / "finance.openai.json")


def call(i: int, name: str, args: dict) -> dict:
    return {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}


def trajectory(kind: str, tools: list, turns: list[PlannedTurn], steps: list, **scenario_extra) -> Trajectory:
    """`steps`: per assistant message, a list of (name, args, result, is_error) calls or a text."""
    scenario = Scenario(
        id="t1",
        kind=kind,
        toolset="x",
        domain="x",
        offered=tools,
        targets=[c.name for t in turns for c in t.calls],
        **scenario_extra,
    )
    messages = [{"role": "system", "content": "s"}]
    executions = []
    turn_queue = list(turns)
    for step in steps:
        if step == "USER":
            messages.append({"role": "user", "content": turn_queue.pop(0).user_message})
        elif isinstance(step, str):
            messages.append({"role": "assistant", "content": step})
        else:
            calls = [call(len(executions) + i, n, a) for i, (n, a, _, _) in enumerate(step)]
            messages.append({"role": "assistant", "content": None, "tool_calls": calls})
            for c, (n, a, result, err) in zip(calls, step, strict=True):
                executions.append(
                    Execution(call_id=c["id"], name=n, arguments=a, result=json.dumps(result), is_error=err)
                )
                messages.append({"role": "tool", "tool_call_id": c["id"], "name": n, "content": json.dumps(result)})
    return Trajectory(
        id="t1",
        scenario=scenario,
        plan=Plan(goal="g", turns=turns),
        messages=messages,
        tools=[t.openai_tool() for t in tools],
        executions=executions,
    )


CHAIN = GateChain([FormatGate(), SchemaGate(), ExecutionGate(), ConsistencyGate()])
BALANCE = FINANCE.tool("get_account_balance")
CONVERT = FINANCE.tool("convert_money")
PARALLEL = [
    PlannedTurn(
        user_message="balances of ACC-1 and ACC-2?",
        calls=[
            PlannedCall(name="get_account_balance", arguments={"account_id": "ACC-1"}),
            PlannedCall(name="get_account_balance", arguments={"account_id": "ACC-2"}),
        ],
    )
]


def verdict(traj: Trajectory) -> tuple[bool, str]:
    item = CHAIN(traj)
    failed = item.rejected_by
    return item.accepted, f"{failed.gate}: {failed.reason}" if failed else ""


def test_parallel_calls_match_in_any_order():
    steps = [
        "USER",
        [
            ("get_account_balance", {"account_id": "acc 2"}, {"balance": 1}, False),
            ("get_account_balance", {"account_id": "ACC-1"}, {"balance": 2}, False),
        ],
        "Done.",
    ]
    assert verdict(trajectory("parallel", [BALANCE], PARALLEL, steps)) == (True, "")


@pytest.mark.parametrize(
    ("calls", "expected_failure"),
    [
        ([("get_account_balance", {"account_id": "ACC-1"}, {}, False)], "consistency: turn 1: wrong number of calls"),
        (
            [
                ("get_account_balance", {"account_id": "ACC-1"}, {}, False),
                ("get_account_balance", {"account_id": "ACC-3"}, {}, False),
            ],
            "consistency: turn 1: wrong value",
        ),
        ([("get_account_balance", {"account": "ACC-1"}, {}, False)] * 2, "schema: get_account_balance"),
        (
            [
                ("get_account_balance", {"account_id": "ACC-1"}, {"error": "no"}, True),
                ("get_account_balance", {"account_id": "ACC-2"}, {}, False),
            ],
            "execution: get_account_balance returned an error",
        ),
        ([("transfer_funds", {"from_account": "a"}, {}, False)] * 2, "schema: call to transfer_funds"),
    ],
)
def test_wrong_calls_fail_at_the_right_gate(calls, expected_failure: str):
    accepted, reason = verdict(trajectory("parallel", [BALANCE], PARALLEL, ["USER", calls]))
    assert not accepted and reason.startswith(expected_failure), reason


def test_format_gate_catches_unparsed_call_text_and_string_arguments():
    cut = trajectory("single", [BALANCE], PARALLEL[:1], ["USER", '{"tool_calls": [{"name": "get_acc'])
    assert verdict(cut)[1].startswith("format: tool call output that does not parse")
    bad = trajectory("single", [BALANCE], PARALLEL[:1], ["USER", []])
    bad.messages[-1] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "x", "type": "function", "function": {"name": "get_account_balance", "arguments": "{oops"}}
        ],
    }
    assert verdict(bad)[1] == "format: arguments of get_account_balance are not a JSON object"


def test_irrelevance_passes_only_without_calls():
    turn = [PlannedTurn(user_message="book me a taxi", calls=[])]
    assert verdict(trajectory("irrelevance", [CONVERT], turn, ["USER", "I can't book taxis."]))[0]
    called = trajectory(
        "irrelevance",
        [CONVERT],
        turn,
        ["USER", [("convert_money", {"amount": 1, "from_currency": "USD", "to_currency": "EUR"}, {}, False)], "ok"],
    )
    assert verdict(called)[1].startswith("consistency: called convert_money although no offered tool fits")


def test_multi_step_binding_takes_the_value_from_the_earlier_result():
    search, book = TRAVEL.tool("searchFlights"), TRAVEL.tool("createBooking")
    search_args = {"origin": "SFO", "destination": "JFK", "date": "2026-05-01"}
    passenger = {"first_name": "Ada", "last_name": "Lovelace"}
    turns = [
        PlannedTurn(
            user_message="find a flight and book it",
            calls=[
                PlannedCall(name="searchFlights", arguments=search_args),
                PlannedCall(
                    name="createBooking", arguments={"passenger": passenger}, bindings={"flight_id": "call_0.flight_id"}
                ),
            ],
        )
    ]
    link = ChainLink(
        source="searchFlights", source_field="flight_id", target="createBooking", target_argument="flight_id"
    )
    flights = [{"flight_id": "FL-7"}, {"flight_id": "FL-9"}]

    def run(flight_id: str) -> tuple[bool, str]:
        steps = [
            "USER",
            [("searchFlights", search_args, flights, False)],
            [
                (
                    "createBooking",
                    {"flight_id": flight_id, "passenger": passenger},
                    {"booking_id": "B1", "flight_id": flight_id},
                    False,
                )
            ],
            "Booked.",
        ]
        return verdict(trajectory("multi_step", [search, book], turns, steps, chain=link))

    assert run("FL-9") == (True, "")
    accepted, reason = run("FL-1")
    assert not accepted and "wrong value for 'flight_id'" in reason


def test_clarify_must_ask_before_calling():
    turns = [
        PlannedTurn(
            user_message="what's my balance?",
            calls=[PlannedCall(name="get_account_balance", arguments={"account_id": "ACC-5"})],
        )
    ]
    ask = ["USER", "Which account?", [("get_account_balance", {"account_id": "ACC-5"}, {"balance": 3}, False)], "3."]
    traj = trajectory("clarify", [BALANCE], turns, ask, missing_argument="account_id")
    traj.messages.insert(3, {"role": "user", "content": "account_id is ACC-5"})
    assert verdict(traj) == (True, "")
    eager = trajectory(
        "clarify",
        [BALANCE],
        turns,
        ["USER", [("get_account_balance", {"account_id": "ACC-5"}, {}, False)]],
        missing_argument="account_id",
    )
    assert verdict(eager)[1] == "consistency: called a tool before asking for the missing argument"


def test_dedup_drops_exact_and_near_duplicates_of_accepted_requests():
    gate = DedupGate(threshold=0.8)
    chain = GateChain([gate])

    def with_request(text: str) -> Trajectory:
        traj = trajectory("irrelevance", [CONVERT], [PlannedTurn(user_message=text, calls=[])], ["USER", "no"])
        return traj

    assert chain(with_request("Please convert 100 US dollars into euros for me today")).accepted
    assert not chain(with_request("please convert 100 us dollars into euros for me today")).accepted
    near = chain(with_request("Please convert 100 US dollars into euros for me today!"))
    assert not near.accepted and "near-duplicate" in near.gates[0].reason
    assert chain(with_request("What is the weather in Oslo tomorrow morning?")).accepted
