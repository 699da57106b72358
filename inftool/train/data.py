"""Training data from the store: one prompt per assistant decision point, plus the check that
no BFCL question or function name reaches it (BFCL is the exam, never the textbook)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from inftool.data.export import call_dicts, decision_label
from inftool.errors import UserError
from inftool.gates.records import GatedTrajectory
from inftool.lm.constrained import plain_messages
from inftool.lm.records import ChatRequest
from inftool.rollout import Trajectory
from inftool.specs.schema import validation_error


def _row(traj: Trajectory, index: int, calls: list[dict[str, Any]]) -> dict[str, Any]:
    prompt = plain_messages(ChatRequest(messages=traj.messages[:index], tools=traj.tools or None))
    return {"id": f"{traj.id}-{index}", "prompt": prompt, "label": decision_label(traj, calls)}


def planned_first_decision(item: GatedTrajectory) -> dict[str, Any] | None:
    """A rejected episode still gives a correct RL prompt: its first decision, labelled by the
    plan (what the policy should have done), when the plan's own calls fit their schemas."""
    traj, plan = item.trajectory, item.trajectory.plan
    if traj.status != "completed" or plan is None or len(traj.messages) < 2:
        return None
    calls = plan.first_decision(traj.scenario.kind)
    tools = {t.name: t for t in traj.scenario.offered}
    if any(c.name not in tools or validation_error(tools[c.name], c.arguments) for c in calls):
        return None
    return _row(traj, 2, [{"name": c.name, "arguments": c.arguments} for c in calls])


def decision_points(items: Iterable[GatedTrajectory], verified_only: bool = False, limit: int | None = None) -> list:
    """`prompt`: the conversation before an assistant decision, in the same plain chat format the
    embedded and hf backends send (tools in the system message); `label`: the expected calls.
    Accepted episodes give every decision (labels verified by the gates); unless
    `verified_only`, rejected ones give their first decision labelled by the plan."""
    rows = []
    for item in items:
        traj = item.trajectory
        if item.accepted:
            for index, message in enumerate(traj.messages):
                if message["role"] == "assistant":
                    rows.append(_row(traj, index, call_dicts(message)))
        elif not verified_only and (row := planned_first_decision(item)) is not None:
            rows.append(row)
    return rows[:limit] if limit else rows


def _normalize(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


@lru_cache(maxsize=1)
def bfcl_reference() -> tuple[frozenset[str], frozenset[str]]:
    """(normalized BFCL user questions, BFCL function names) from the bfcl-eval package data."""
    from inftool.eval_data import bfcl_data_dir, read_jsonl

    questions: set[str] = set()
    names: set[str] = set()
    data = bfcl_data_dir()
    for path in [*data.glob("BFCL_v4_*.json"), *(data / "multi_turn_func_doc").glob("*.json")]:
        try:
            rows = read_jsonl(path)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        for row in rows:
            if "name" in row and "function" not in row:
                names.add(row["name"])
            for fn in row.get("function") or []:
                if isinstance(fn, dict) and fn.get("name"):
                    names.add(fn["name"])
            for turn in row.get("question") or []:
                for message in turn if isinstance(turn, list) else []:
                    if (
                        isinstance(message, dict)
                        and message.get("role") == "user"
                        and len(message.get("content", "")) > 20
                    ):
                        questions.add(_normalize(message["content"]))
    return frozenset(questions), frozenset(names)


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
                    "rename or drop that tool"
                )
        for message in row["prompt"]:
            if message["role"] == "user" and _normalize(message["content"]) in questions:
                raise UserError(f"contamination: training row {row['id']} contains a BFCL question verbatim")
