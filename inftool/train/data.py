"""Training data from the store: one prompt per assistant decision point, plus the check that
no BFCL question or function name reaches it (BFCL is the exam, never the textbook).

Labels never depend on the policy's luck: SFT rows are the decision points of every *verified
plan* (its own conversation: the planned calls with the results the tool server gave them),
whatever the policy did; GRPO prompts are the decision points of the *hard* items (verified plan,
policy wrong), and only groups whose rewards differ are kept (`varied_groups`)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from inftool.data.export import decision_label
from inftool.errors import UserError
from inftool.eval_data import bfcl_reference, normalize_question
from inftool.gates.records import GatedTrajectory
from inftool.lm.constrained import plain_messages
from inftool.lm.records import ChatRequest
from inftool.rollout import Trajectory
from inftool.rollout.episode import answered_calls


def _plan_row(traj: Trajectory, messages: list[dict[str, Any]], calls: list[dict[str, Any]], answer: str = "") -> dict:
    prompt = plain_messages(ChatRequest(messages=messages, tools=traj.tools or None))
    index = sum(m["role"] in ("user", "assistant") for m in messages)
    row = {"id": f"{traj.id}-plan{index}", "prompt": prompt, "label": decision_label(traj, calls)}
    return {**row, "answer": answer} if answer else row


def planned_decisions(item: GatedTrajectory) -> list[dict[str, Any]]:
    """The decision points of the plan's own conversation (a verified plan only): each user turn,
    then the planned calls one decision at a time (a chain call by call), each answered by the
    result the tool server gave the plan. `clarify` is its first decision (ask for the missing
    value) and `irrelevance` its refusal, both without a call."""
    traj, plan = item.trajectory, item.trajectory.plan
    if plan is None or not item.plan_verified or not plan.turns:
        return []
    kind = traj.scenario.kind
    messages = traj.messages[:1] if traj.messages and traj.messages[0]["role"] == "system" else []
    executions = list(traj.plan_executions)
    rows = []
    for turn in plan.turns:
        messages = [*messages, {"role": "user", "content": turn.user_message}]
        if kind in ("irrelevance", "clarify"):
            return [_plan_row(traj, messages, [], plan.reply(kind))]
        done, executions = executions[: len(turn.calls)], executions[len(turn.calls) :]
        for step in [[e] for e in done] if kind == "multi_step" else [done]:
            rows.append(_plan_row(traj, messages, [{"name": e.name, "arguments": e.arguments} for e in step]))
            messages = [*messages, *answered_calls(step)]
        messages = [*messages, {"role": "assistant", "content": "Done."}]
    return rows


def iter_sft_rows(items: Iterable[GatedTrajectory]) -> Iterator[dict[str, Any]]:
    """Every verified plan's decision points, whatever the policy did, one at a time (`items` may
    be a store: nothing but the current item is in memory)."""
    return (row for item in items for row in planned_decisions(item))


def iter_grpo_rows(items: Iterable[GatedTrajectory]) -> Iterator[dict[str, Any]]:
    """The hard items' decision points: verified plans the policy got wrong, one at a time."""
    return (row for item in items if item.side == "hard" for row in planned_decisions(item))


def hard_and_easy_rows(items: Iterable[GatedTrajectory]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """GRPO's rows (verified plans the policy got wrong) and its replay's (ones it got right), in
    one pass over `items` (a round's store is read once)."""
    sides: dict[str, list[dict[str, Any]]] = {"hard": [], "easy": []}
    for item in items:
        if item.side in sides:
            sides[item.side] += planned_decisions(item)
    return sides["hard"], sides["easy"]


def sft_rows(items: Iterable[GatedTrajectory]) -> list[dict[str, Any]]:
    return list(iter_sft_rows(items))


def grpo_rows(items: Iterable[GatedTrajectory]) -> list[dict[str, Any]]:
    return list(iter_grpo_rows(items))


def sample_rows(rows: Iterable[dict[str, Any]], cap: int | None, seed: int) -> list[dict[str, Any]]:
    """At most `cap` rows drawn uniformly from a stream of any length (reservoir sampling, seeded;
    kept in stream order); every row when `cap` is None or the stream is shorter."""
    if cap is None:
        return list(rows)
    rng = random.Random(seed)
    kept: list[tuple[int, dict[str, Any]]] = []
    for index, row in enumerate(rows):
        if index < cap:
            kept.append((index, row))
        elif (slot := rng.randrange(index + 1)) < cap:
            kept[slot] = (index, row)
    return [row for _, row in sorted(kept, key=lambda pair: pair[0])]


def row_kind(row: dict[str, Any]) -> str:
    """The scenario kind of a training row (its label says it)."""
    return json.loads(row["label"]).get("kind", "?")


def rows_by_kind(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each kind's rows, in their order; kinds in the order they first appear."""
    queues: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        queues.setdefault(row_kind(row), []).append(row)
    return queues


def by_kind_in_turn(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows interleaved kind by kind (each kind's rows in their order), so any prefix holds the kinds
    alike. GRPO screens and trains on a prefix, which in store order can be one kind's groups
    (irrelevance, where a text answer is the reward). Interleaving alone did not stop a cpu_loop GRPO
    round from teaching text answers everywhere (see issue 13's note)."""
    queues = rows_by_kind(rows)
    longest = max((len(q) for q in queues.values()), default=0)
    return [q[i] for i in range(longest) for q in queues.values() if i < len(q)]


def spread_by_kind(rows: list[dict[str, Any]], length: int, seed: int) -> list[dict[str, Any]]:
    """`length` rows (SFT's steps x batch), each kind's rows reshuffled pass after pass and spread evenly
    over the whole sequence, so every stretch of training holds the kinds in the data's proportions.
    A shuffled pass lets a stretch run to mostly refusals or mostly calls, and on a 135M policy that
    decided the call-or-refuse token for whole BFCL categories: the same 357 rows trained in two
    shuffles called on 42.5 % and 100 % of must-call items (issue 13's note #10)."""
    rng = random.Random(seed)
    queues = rows_by_kind(rows)
    keyed: list[tuple[float, dict[str, Any]]] = []
    counted = 0
    for queue in queues.values():  # shares rounded on the running total: they add up to `length`
        share = round(length * (counted + len(queue)) / len(rows)) - round(length * counted / len(rows))
        counted += len(queue)
        drawn: list[dict[str, Any]] = []
        while len(drawn) < share:  # a new shuffle for each pass over the kind
            drawn += rng.sample(queue, len(queue))
        keyed += [((slot + rng.random()) / share, row) for slot, row in enumerate(drawn[:share])]
    keyed.sort(key=lambda pair: pair[0])
    return [row for _, row in keyed]


def reachable(rows: Iterable[dict[str, Any]], completion_tokens: Callable[[dict[str, Any]], int],
              max_new_tokens: int) -> list[dict[str, Any]]:  # fmt: skip
    """The rows whose right answer fits `max_new_tokens`: a sampled answer cut at the limit scores 0,
    so on a longer one only a short (text) answer can win its group."""
    return [row for row in rows if completion_tokens(row) <= max_new_tokens]


def varied_groups(rewards: dict[str, list[float]], min_std: float = 1e-6) -> list[str]:
    """The prompt ids whose sampled group's rewards differ: a group that scores the same for
    every sample has zero advantage and teaches GRPO nothing."""
    kept = []
    for prompt_id, group in rewards.items():
        mean = sum(group) / len(group) if group else 0.0
        if len(group) > 1 and (sum((r - mean) ** 2 for r in group) / len(group)) ** 0.5 > min_std:
            kept.append(prompt_id)
    return kept


def check_contamination(rows: list[dict[str, Any]]) -> None:
    """Fail the run if any training prompt holds a BFCL question or offers a BFCL function."""
    questions, names = bfcl_reference()
    for row in rows:
        tools = json.loads(row["label"]).get("tools", [])
        for tool in tools:
            name = tool.get("function", tool).get("name")
            if name in names:
                raise UserError(
                    f"contamination: training row {row['id']} offers '{name}', a BFCL function; "
                    "rename or drop that tool (curation.filter.exclude_bfcl_functions: true drops them all)"
                )
        for message in row["prompt"]:
            if message["role"] == "user" and normalize_question(message["content"]) in questions:
                raise UserError(f"contamination: training row {row['id']} contains a BFCL question verbatim")
