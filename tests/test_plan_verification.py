"""Plans verified on their own (PlanGate), results checked for faithfulness (ExecutionGate), the
user simulator's rewrite-then-template path and the tool server's schema-faithful results — all
with scripted LMs, no model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from inftool.agents import EpisodeState, Plan, PlannedCall, PlannedTurn, ToolServer, UserSimulator
from inftool.agents.grounding import grounded, message_problems, normalize, placeholders
from inftool.agents.result_checks import schema_echo
from inftool.gates import ExecutionGate, PlanGate
from inftool.lm import ChatRequest, ChatResult, RoleClient, RoleLM, ToolCall
from inftool.rollout import Agents, Execution, Limits, Trajectory, run_episode
from inftool.scenarios import Scenario, ScenarioSampler
from inftool.specs import load_toolset

SPECS = Path(__file__).resolve().parents[1] / "recipes" / "specs"
TRAVEL = load_toolset("travel", SPECS / "travel.openapi.yaml")
FINANCE = load_toolset("finance", SPECS / "finance.openai.json")
WORKSPACE = load_toolset("workspace", SPECS / "workspace.mcp.json")
TRANSFER = {"from_account": "ACC-1042", "to_account": "ACC-7731", "amount": 40.0, "currency": "EUR"}


class Scripted:
    """A sync engine answering every request with `reply(request)` (a string: the content)."""

    name = "scripted"

    def __init__(self, reply) -> None:
        self.reply, self.requests = reply, []

    def where(self) -> str:
        return "test"

    def complete(self, request: ChatRequest) -> ChatResult:
        self.requests.append(request)
        out = self.reply(request)
        return out if isinstance(out, ChatResult) else ChatResult(content=out)


def lm(role: str, reply) -> RoleLM:
    return RoleLM(RoleClient(role, Scripted(reply)), temperature=0.0, max_tokens=64, cache=False)


def traj_for(kind: str, tools: list, turns: list[PlannedTurn], results: list[Any], **plan_extra) -> Trajectory:
    """A trajectory whose plan ran on the tool server with `results` (one per planned call)."""
    planned = [c for t in turns for c in t.calls]
    scenario = Scenario(id="p1", kind=kind, toolset="x", domain="x", offered=tools, targets=[c.name for c in planned])
    executions = [
        Execution(call_id=f"plan_{i}", name=c.name, arguments={**c.arguments}, result=json.dumps(r), is_error=False)
        for i, (c, r) in enumerate(zip(planned, results, strict=True))
    ]
    return Trajectory(id="p1", scenario=scenario, plan=Plan(goal="g", turns=turns, **plan_extra),
                      tools=[t.openai_tool() for t in tools], plan_executions=executions)  # fmt: skip


def good_transfer() -> Trajectory:
    turn = PlannedTurn(user_message="Please move 40.00 EUR from ACC-1042 to ACC-7731.",
                       calls=[PlannedCall(name="transfer_funds", arguments=TRANSFER)])  # fmt: skip
    result = {"status": "completed", "transfer_id": "TRN-5521", **TRANSFER}
    return traj_for("single", [FINANCE.tool("transfer_funds")], [turn], [result])


def verdict(traj: Trajectory, gate: PlanGate | None = None) -> tuple[bool, str]:
    result = (gate or PlanGate())(traj)
    return result.passed, result.reason


def test_a_hand_built_good_plan_is_accepted():
    assert verdict(good_transfer()) == (True, "")


def test_an_ungrounded_message_is_refused():
    balance = FINANCE.tool("get_account_balance")
    call = PlannedCall(name="get_account_balance", arguments={"account_id": "ACC-2038"})
    turn = PlannedTurn(user_message="I want the current balance of a bank account.", calls=[call])
    passed, reason = verdict(traj_for("single", [balance], [turn], [{"account_id": "ACC-2038", "balance": 12.5}]))
    assert not passed and reason.startswith("ungrounded: get_account_balance.account_id")
    # one of two values missing is enough to refuse
    turn = PlannedTurn(user_message="Please move 40.00 EUR from ACC-1042 to my savings.",
                       calls=[PlannedCall(name="transfer_funds", arguments=TRANSFER)])  # fmt: skip
    passed, reason = verdict(traj_for("single", [FINANCE.tool("transfer_funds")], [turn], [TRANSFER]))
    assert not passed and "transfer_funds.to_account" in reason


def test_a_placeholder_value_is_refused():
    write = WORKSPACE.tool("write_file")
    args = {"path": "write_file", "content": "hello world"}
    turn = PlannedTurn(user_message='Could you save "hello world" in write file?',
                       calls=[PlannedCall(name="write_file", arguments=args)])  # fmt: skip
    passed, reason = verdict(traj_for("single", [write], [turn], [{"status": "success"}]))
    assert not passed and reason == 'placeholder value: write_file.path is "write_file" (named after the tool)'
    assert placeholders("listContributor", {"updatedAfter": "date-time", "limit": "int32"}) == [
        'updatedAfter is "date-time" (a placeholder word)',
        'limit is "int32" (a placeholder word)',
    ]  # a format name copied from a spec's example, not a date
    balance = FINANCE.tool("get_account_balance")
    turn = PlannedTurn(user_message="What is the balance of get_account_balance_2038?",
                       calls=[PlannedCall(name="get_account_balance",
                                          arguments={"account_id": "get_account_balance_2038"})])  # fmt: skip
    passed, reason = verdict(traj_for("single", [balance], [turn], [{}]))
    assert not passed and "named after the tool" in reason


def test_a_parallel_plan_that_makes_one_call_twice_is_refused():
    get_booking = TRAVEL.tool("getBooking")
    calls = [PlannedCall(name="getBooking", arguments={"bookingId": b}) for b in ("BKN-4471", "BKN-4471")]
    turn = PlannedTurn(user_message="Can you look up booking BKN-4471 and booking BKN-4471?", calls=calls)
    results = [{"booking_id": "BKN-4471", "status": "confirmed"}] * 2
    assert verdict(traj_for("parallel", [get_booking], [turn], results)) == (
        False, "turn 1: the plan makes the same call twice")  # fmt: skip
    calls[1] = PlannedCall(name="getBooking", arguments={"bookingId": "BKN-5120"})
    turn = PlannedTurn(user_message="Can you look up bookings BKN-4471 and BKN-5120?", calls=calls)
    results[1] = {"booking_id": "BKN-5120", "status": "confirmed"}
    assert verdict(traj_for("parallel", [get_booking], [turn], results)) == (True, "")


def test_a_result_that_echoes_the_schema_is_refused():
    traj = good_transfer()
    echo = {"status": "success", "data": {"type": "object", "properties": {"balance": {"type": "number"}}}}
    traj.plan_executions[0].result = json.dumps(echo)
    passed, reason = verdict(traj)
    assert not passed and reason.startswith("transfer_funds returned a schema, not data")
    # the policy's side: the execution gate refuses it too
    traj.executions = [traj.plan_executions[0]]
    gate = ExecutionGate()(traj)
    assert not gate.passed and "returned a schema" in gate.reason


def test_a_result_that_ignores_the_id_passed_in_is_refused():
    get_booking = TRAVEL.tool("getBooking")
    turn = PlannedTurn(user_message="Can you look up booking BKN-4471?",
                       calls=[PlannedCall(name="getBooking", arguments={"bookingId": "BKN-4471"})])  # fmt: skip
    other = {"booking_id": "BKN-9999", "flight_id": "UA120", "status": "confirmed"}
    passed, reason = verdict(traj_for("single", [get_booking], [turn], [other]))
    assert not passed and reason == 'getBooking\'s result ignores bookingId="BKN-4471" (its bookingId is "BKN-9999")'
    assert verdict(traj_for("single", [get_booking], [turn], [{**other, "booking_id": "BKN-4471"}])) == (True, "")


def test_unusable_messages_are_refused():
    weather = WORKSPACE.tool("lookup_weather")
    for message, why in [
        ("Find the weather in Lisbon. You can use the following JSON code:", "reads like a prompt or code"),
        ("Please call lookup_weather for Lisbon.", "names the function lookup_weather"),
        ("The city of Lisbon, in Portugal.", "asks for nothing"),
        ("Lisbon", "too short"),
    ]:
        turn = PlannedTurn(
            user_message=message, calls=[PlannedCall(name="lookup_weather", arguments={"city": "Lisbon"})]
        )
        passed, reason = verdict(traj_for("single", [weather], [turn], [{"city": "Lisbon"}]))
        assert not passed and why in reason, (message, reason)
    irrelevant = traj_for(
        "irrelevance", [weather], [PlannedTurn(user_message="You can use the following JSON code:")], []
    )
    assert not verdict(irrelevant)[0]
    fine = traj_for("irrelevance", [weather], [PlannedTurn(user_message="Please book me a table for two tonight.")], [])
    assert verdict(fine) == (True, "")


def test_json_as_a_requested_format_is_a_request_and_json_as_code_is_not():
    for message in ["Could you find the defense game stats by team with a JSON format, season 2024 and team WAS?",
                    "I need the location of IP 219.117.165.75 with a json output."]:  # fmt: skip
        assert message_problems(message, ["getStats"]) == [], message
    for message in ["Find the weather in Lisbon. Return a JSON object with the city.",
                    "Here is the request as valid JSON for you, please send it."]:  # fmt: skip
        assert any("reads like a prompt or code" in p for p in message_problems(message, ["getStats"])), message


def test_a_plan_that_did_not_run_or_failed_on_the_server_is_refused():
    traj = good_transfer()
    traj.plan_executions = []
    assert verdict(traj) == (False, "the plan ran 0 of its 1 calls on the tool server")
    traj = good_transfer()
    traj.plan_executions[0].is_error = True
    assert not verdict(traj)[0] and "failed on the tool server" in verdict(traj)[1]


def test_grounding_normalizes_case_spacing_numbers_and_dates():
    text = normalize("Send $1,200.50 and 40 EUR on March 14th, 2026 to acc 1042 at 9:30 am, then 14/03/2026.")
    assert grounded(1200.5, text) and grounded(40.0, text) and grounded(40, text) and grounded("eur", text)
    assert grounded("2026-03-14", text) and grounded("ACC-1042", text) and grounded("09:30", text)
    assert grounded("2026-03-14T09:30:00Z", text)
    assert not grounded(3, text)  # the 03 of a date is no number of its own
    assert not grounded("2026-04-14", text) and not grounded(41.0, text)
    assert grounded("premium_economy", normalize("a Premium Economy seat"))
    assert grounded(True, normalize("list it recursively"), "recursive")


def test_multi_step_bound_values_and_clarify_withheld_values_count_as_grounded():
    search, book = TRAVEL.tool("searchFlights"), TRAVEL.tool("createBooking")
    passenger = {"first_name": "Ada", "last_name": "Byron"}
    args = {"origin": "SFO", "destination": "JFK", "date": "2026-04-02"}
    turn = PlannedTurn(
        user_message="Find a flight from SFO to JFK on April 2, 2026, then book it for Ada Byron.",
        calls=[PlannedCall(name="searchFlights", arguments=args),
               PlannedCall(name="createBooking", arguments={"passenger": passenger},
                           bindings={"flight_id": "call_0.flight_id"})],
    )  # fmt: skip
    flights = {"result": [{"flight_id": "UA120", **args}]}
    booking = {"booking_id": "BKN-1", "flight_id": "UA120", "status": "confirmed", "passenger": passenger}
    traj = traj_for("multi_step", [search, book], [turn], [flights, booking])
    traj.plan_executions[1].arguments = {"flight_id": "UA120", "passenger": passenger}
    assert verdict(traj) == (True, "")
    balance = FINANCE.tool("get_account_balance")
    ask = PlannedTurn(user_message="What's my balance?",
                      calls=[PlannedCall(name="get_account_balance", arguments={"account_id": "ACC-5"})])  # fmt: skip
    result = [{"account_id": "ACC-5", "balance": 1.0}]
    assert verdict(traj_for("clarify", [balance], [ask], result, withheld={"account_id": "ACC-5"})) == (True, "")
    assert not verdict(traj_for("clarify", [balance], [ask], result))[0]


def test_the_optional_verifier_must_reproduce_the_first_decision():
    def calls(*made):
        return lambda request: ChatResult(tool_calls=[ToolCall(id=f"v{i}", name=n, arguments=a)
                                                      for i, (n, a) in enumerate(made)])  # fmt: skip

    gate = PlanGate(verifier=True)
    gate.set_lm(lm("judge", calls(("transfer_funds", TRANSFER))))
    assert verdict(good_transfer(), gate) == (True, "")
    gate.set_lm(lm("judge", calls(("transfer_funds", {**TRANSFER, "amount": 4.0}))))
    passed, reason = verdict(good_transfer(), gate)
    assert not passed and reason.startswith("a verifier given only the message and the tools did not reproduce")
    assert verdict(good_transfer(), PlanGate()) == (True, "")  # off by default: no LM is asked


# ---- the user simulator and the tool server -----------------------------------------------------


def transfer_scenario(kind: str = "single") -> Scenario:
    tool = FINANCE.tool("transfer_funds")
    return Scenario(id="u1", kind=kind, toolset="finance", domain="finance", offered=[tool], targets=[tool.name],
                    calls_per_target=[1], persona="a busy professional", seed=11)  # fmt: skip


def writer(message: str):
    return lambda request: json.dumps({"goal": "move money", "message": message})


def test_an_ungrounded_lm_message_is_rewritten_then_the_draft_states_the_values():
    simulator = UserSimulator(rewrites=2)
    engine = Scripted(writer("I need to move some money between my accounts."))
    simulator.set_lm(RoleLM(RoleClient("user", engine), temperature=0.0, max_tokens=64, cache=False))
    plan = asyncio.run(simulator.acall(transfer_scenario()))
    turn = plan.turns[0]
    assert plan.rewrites == 2 and len(engine.requests) == 3 and turn.source == "template"
    (call,) = turn.calls
    assert set(call.arguments) == {"from_account", "to_account", "amount", "currency"}
    text = normalize(turn.user_message)
    assert all(grounded(v, text) for v in call.arguments.values()), turn.user_message
    assert "transfer_funds" not in turn.user_message and "=" not in turn.user_message


def test_a_grounded_lm_message_is_kept():
    first = UserSimulator(message="template")
    plan = asyncio.run(first.acall(transfer_scenario()))  # the same seed gives the same values
    args = plan.turns[0].calls[0].arguments
    message = f"Hi, send {args['amount']:.2f} {args['currency']} from {args['from_account']} to {args['to_account']}."
    simulator = UserSimulator()
    simulator.set_lm(lm("user", writer(message)))
    plan = asyncio.run(simulator.acall(transfer_scenario()))
    assert plan.turns[0].user_message == message and plan.turns[0].source == "lm" and plan.rewrites == 0


def test_the_lm_chooses_among_generated_candidates():
    chosen = {}

    def pick(request):
        schema = request.response_schema["properties"]["arguments"]
        chosen.update({k: v["enum"] for k, v in schema["properties"].items() if "enum" in v})
        return json.dumps({"arguments": {k: v["enum"][-1] for k, v in schema["properties"].items()}})

    simulator = UserSimulator(values="choose", message="template")
    simulator.set_lm(lm("user", pick))
    plan = asyncio.run(simulator.acall(transfer_scenario()))
    args = plan.turns[0].calls[0].arguments
    assert chosen["from_account"] and all(args[k] == chosen[k][-1] for k in ("from_account", "to_account", "amount"))


def tool_server(reply=None) -> ToolServer:
    server = ToolServer()
    server.set_lm(lm("tools", reply or (lambda request: json.dumps({"result": {}}))))
    return server


def test_results_follow_the_output_schema_and_reuse_ids_and_values():
    server, state = tool_server(), EpisodeState()
    search, book, get = TRAVEL.tool("searchFlights"), TRAVEL.tool("createBooking"), TRAVEL.tool("getBooking")
    args = {"origin": "SFO", "destination": "JFK", "date": "2026-04-02", "cabin": "business"}
    flights, error = asyncio.run(server.aforward(search, args, state))
    assert not error and not list(jsonschema.Draft202012Validator(search.output_schema).iter_errors(flights["result"]))
    assert all(f["origin"] == "SFO" and f["destination"] == "JFK" and f["cabin"] == "business"
               and f["departure"].startswith("2026-04-02") for f in flights["result"])  # fmt: skip
    flight_id = flights["result"][0]["flight_id"]
    passenger = {"first_name": "Ada", "last_name": "Byron", "email": "ada@example.com"}
    booking, _ = asyncio.run(server.aforward(book, {"flight_id": flight_id, "passenger": passenger}, state))
    assert booking["flight_id"] == flight_id and booking["passenger"] == passenger and booking["status"] == "confirmed"
    again, _ = asyncio.run(server.aforward(get, {"bookingId": booking["booking_id"]}, state))
    assert again == booking  # what the booking said is said again
    assert asyncio.run(server.aforward(search, args, state))[0] == flights  # the same call, the same answer
    for result in (flights, booking, again):
        assert schema_echo(result) is None


def test_results_without_an_output_schema_are_inferred_from_the_tool():
    server, state = tool_server(), EpisodeState()
    balance, _ = asyncio.run(server.aforward(FINANCE.tool("get_account_balance"), {"account_id": "ACC-1"}, state))
    assert balance["account_id"] == "ACC-1" and isinstance(balance["balance"], float) and len(balance["currency"]) == 3
    convert = {"amount": 100.0, "from_currency": "EUR", "to_currency": "USD"}
    converted, _ = asyncio.run(server.aforward(FINANCE.tool("convert_money"), convert, state))
    assert converted["converted_amount"] == round(100.0 * converted["rate"], 2) and converted["rate"] > 1
    transfer, _ = asyncio.run(server.aforward(FINANCE.tool("transfer_funds"), TRANSFER, state))
    assert transfer["status"] == "completed" and transfer["from_account"] == "ACC-1042"
    for result in (balance, converted, transfer):
        assert schema_echo(result) is None and "data" not in result


def test_the_lm_writes_only_free_text_and_junk_keeps_the_generated_text():
    read = WORKSPACE.tool("read_file")
    seen: list[ChatRequest] = []

    def text(content):
        return lambda request: seen.append(request) or json.dumps({"result": {"content": content}})

    result, _ = asyncio.run(tool_server(text("Shopping list: eggs, milk.")).aforward(read, {"path": "a.md"},
                                                                                        EpisodeState()))  # fmt: skip
    assert result == {"content": "Shopping list: eggs, milk.", "size_bytes": len(b"Shopping list: eggs, milk.")}
    assert set(seen[0].response_schema["properties"]["result"]["properties"]) == {"content"}
    junk, _ = asyncio.run(tool_server(text('{"type": "string"}')).aforward(read, {"path": "b.md"}, EpisodeState()))
    assert junk["content"] != '{"type": "string"}' and schema_echo(junk) is None
    for bad in ("the plan is the plan is the plan is", "The text of content", "card_payment_ref"):
        kept, _ = asyncio.run(tool_server(text(bad)).aforward(read, {"path": "c.md"}, EpisodeState()))
        assert kept["content"] != bad  # a loop, the instruction echoed, an identifier: the generated text stays
    no_text = []
    asyncio.run(tool_server(lambda r: no_text.append(r) or "{}").aforward(TRAVEL.tool("getFlight"), {"flightId": "UA1"},
                                                                         EpisodeState()))  # fmt: skip
    assert no_text == []  # nothing to write: no LM call


@pytest.mark.parametrize("kind", ["single", "parallel", "multiple", "parallel_multiple", "irrelevance", "multi_step"])
def test_episodes_run_their_plan_on_the_tool_server_and_verify(kind: str):
    """The rollout runs the plan's own calls before the policy acts; template plans verify."""
    toolsets = [TRAVEL, FINANCE, WORKSPACE]
    scenario = next(
        s
        for s in ScenarioSampler(toolsets, seed=3).sample(
            24, dict.fromkeys(["single", "parallel", "multiple", "parallel_multiple", "irrelevance", "multi_step"], 1.0)
        )
        if s.kind == kind
    )
    agents = Agents(user=UserSimulator(message="template"), assistant=_assistant(), tools=tool_server(),
                    models={})  # fmt: skip
    traj = asyncio.run(run_episode(scenario, agents, Limits(2, 4)))
    assert traj.status == "completed", traj.failure
    planned = [c for t in traj.plan.turns for c in t.calls]
    assert len(traj.plan_executions) == len(planned) and not any(e.is_error for e in traj.plan_executions)
    if kind == "multi_step":
        bound = traj.plan_executions[1].arguments[scenario.chain.target_argument]
        assert bound in traj.plan_executions[0].result
    assert verdict(traj) == (True, ""), traj.plan.turns[0].user_message


def _assistant():
    from inftool.agents import Assistant

    assistant = Assistant()
    assistant.set_lm(lm("assistant", lambda request: "Done."))
    return assistant


def test_a_free_lm_draw_keeps_its_values_but_not_its_placeholders():
    write = WORKSPACE.tool("write_file")
    scenario = Scenario(id="u2", kind="single", toolset="workspace", domain="workspace", offered=[write],
                        targets=[write.name], calls_per_target=[1], seed=5)  # fmt: skip
    simulator = UserSimulator(values="lm", message="template")
    simulator.set_lm(lm("user", lambda r: json.dumps({"arguments": {"path": "write_file", "content": "Buy milk."}})))
    plan = asyncio.run(simulator.acall(scenario))
    (call,) = plan.turns[0].calls
    assert call.arguments["content"] == "Buy milk." and call.arguments["path"] != "write_file"
    assert "/" in call.arguments["path"]  # a generated path stands in for the placeholder


def test_repeated_calls_vary_what_a_person_varies_never_a_credential():
    from inftool.agents.user_simulator import varied_argument

    text = {"type": "string"}
    schema = {"type": "object", "properties": {"apiKey": text, "apiSecret": text, "relay_token": text, "team": text}}
    seeds = [transfer_scenario("parallel").model_copy(update={"seed": s}) for s in range(40)]
    varied = {varied_argument(s, "getFreeBets", schema) for s in seeds}
    assert varied == {None, "team"}  # a quarter draw every value; the rest vary the team, not the key or token
    only_keys = {"type": "object", "properties": {"apiKey": {"type": "string"}, "token": {"type": "string"}}}
    assert {varied_argument(s, "x", only_keys) for s in seeds} == {None, "apiKey", "token"}  # nothing else to vary
