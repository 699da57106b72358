"""Training data from the store: one prompt per assistant decision point, plus the check that
no BFCL question or function name reaches it (BFCL is the exam, never the textbook)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from inftool.errors import UserError
from inftool.gates.gates import calls_of
from inftool.gates.records import GatedTrajectory
from inftool.lm.constrained import plain_messages
from inftool.lm.records import ChatRequest


def decision_points(items: Iterable[GatedTrajectory], limit: int | None = None) -> list[dict[str, Any]]:
    """`prompt`: the conversation before an assistant decision, in the same plain chat format
    the embedded and hf backends send (tools in the system message); `label`: what it did."""
    rows = []
    for item in items:
        if not item.accepted:
            continue
        traj = item.trajectory
        for index, message in enumerate(traj.messages):
            if message["role"] != "assistant":
                continue
            prompt = plain_messages(ChatRequest(messages=traj.messages[:index], tools=traj.tools or None))
            calls = [{"name": n, "arguments": a} for n, a in calls_of(message)]
            label = json.dumps({"kind": traj.scenario.kind, "calls": calls, "tools": traj.tools})
            rows.append({"id": f"{traj.id}-{index}", "prompt": prompt, "label": label})
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
