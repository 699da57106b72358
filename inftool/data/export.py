"""Exports of accepted trajectories: OpenAI chat fine-tuning JSONL (with `tools`), ShareGPT,
Parquet (loads with HF `datasets`), OpenRLHF prompt data (one row per assistant decision:
`prompt` = messages with the tools rendered into the system message, `label` = JSON of the
expected calls) and BFCL format (question/function + possible_answer) for held-out sets."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from inftool.gates.gates import calls_of
from inftool.gates.records import GatedTrajectory
from inftool.lm.constrained import tools_system_prompt
from inftool.rollout import Trajectory

SHAREGPT_ROLES = {"system": "system", "user": "human", "assistant": "gpt", "tool": "observation"}
BFCL_KINDS = ("single", "multiple", "parallel", "parallel_multiple", "irrelevance")
JSON_TO_BFCL = {"object": "dict", "number": "float"}


def call_dicts(message: dict[str, Any]) -> list[dict[str, Any]]:
    """An assistant message's calls as `{"name", "arguments"}` objects."""
    return [{"name": n, "arguments": a} for n, a in calls_of(message)]


def decision_label(traj: Trajectory, calls: list[dict[str, Any]]) -> str:
    """The label of one decision point: the expected calls ([] = answer in text), with the tools."""
    return json.dumps({"kind": traj.scenario.kind, "calls": calls, "tools": traj.tools}, ensure_ascii=False)


def openai_row(item: GatedTrajectory) -> dict[str, Any]:
    return {"messages": item.trajectory.messages, "tools": item.trajectory.tools}


def sharegpt_row(item: GatedTrajectory) -> dict[str, Any]:
    conversations = []
    for message in item.trajectory.messages:
        if message.get("tool_calls"):
            calls = json.dumps(call_dicts(message), ensure_ascii=False)
            conversations.append({"from": "function_call", "value": calls})
        else:
            conversations.append({"from": SHAREGPT_ROLES[message["role"]], "value": message.get("content") or ""})
    return {"conversations": conversations, "tools": json.dumps(item.trajectory.tools, ensure_ascii=False)}


def with_tools_in_system(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat templates in RL datasets get no `tools=`: the schemas go into the system message."""
    rendered = tools_system_prompt(tools) if tools else ""
    if messages and messages[0]["role"] == "system":
        return [{"role": "system", "content": f"{messages[0]['content']}\n\n{rendered}".strip()}, *messages[1:]]
    return [{"role": "system", "content": rendered}, *messages]


def decision_rows(item: GatedTrajectory) -> Iterator[dict[str, Any]]:
    """One prompt per assistant decision point: the conversation before it, and what it did
    (the accepted trajectory's calls, which the gates matched to the plan; [] for a text reply)."""
    traj = item.trajectory
    for index, message in enumerate(traj.messages):
        if message["role"] != "assistant":
            continue
        yield {
            "id": f"{traj.id}-{index}",
            "prompt": with_tools_in_system(traj.messages[:index], traj.tools),
            "label": decision_label(traj, call_dicts(message)),
        }


def _bfcl_schema(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {k: _bfcl_schema(v) for k, v in schema.items()}
        if isinstance(out.get("type"), str):
            out["type"] = JSON_TO_BFCL.get(out["type"], out["type"])
        return out
    if isinstance(schema, list):
        return [_bfcl_schema(v) for v in schema]
    return schema


def bfcl_rows(item: GatedTrajectory) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(question entry, possible answer) in BFCL's format, for single-turn kinds."""
    traj = item.trajectory
    if traj.scenario.kind not in BFCL_KINDS or traj.plan is None:
        return None
    functions = [
        {"name": t.name, "description": t.description, "parameters": _bfcl_schema(t.parameters)}
        for t in traj.scenario.offered
    ]
    question = {"id": traj.id, "question": [[{"role": "user", "content": traj.plan.turns[0].user_message}]],
                "function": functions}  # fmt: skip
    truth = [{c.name: {k: [v] for k, v in c.arguments.items()}} for c in traj.plan.turns[0].calls]
    return question, {"id": traj.id, "ground_truth": truth}


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_exports(items: list[GatedTrajectory], folder: Path, formats: Iterable[str]) -> dict[str, int]:
    """Write each requested format under `folder`; returns rows written per format."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for fmt in formats:
        if fmt == "openai":
            written[fmt] = _write_jsonl(folder / "openai_chat.jsonl", map(openai_row, items))
        elif fmt == "sharegpt":
            written[fmt] = _write_jsonl(folder / "sharegpt.jsonl", map(sharegpt_row, items))
        elif fmt == "openrlhf":
            rows = (row for item in items for row in decision_rows(item))
            written[fmt] = _write_jsonl(folder / "openrlhf_prompts.jsonl", rows)
        elif fmt == "bfcl":
            pairs = [p for p in map(bfcl_rows, items) if p is not None]
            written[fmt] = _write_jsonl(folder / "BFCL_synthetic.json", (q for q, _ in pairs))
            _write_jsonl(folder / "BFCL_synthetic_possible_answer.json", (a for _, a in pairs))
        elif fmt == "parquet":
            written[fmt] = write_parquet(items, folder / "trajectories.parquet")
    return written


def write_parquet(items: list[GatedTrajectory], path: Path) -> int:
    """Columns: id, kind, toolset, messages and tools (JSON text); `datasets.load_dataset("parquet", ...)` reads it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "id": [i.trajectory.id for i in items],
        "kind": [i.trajectory.scenario.kind for i in items],
        "toolset": [i.trajectory.scenario.toolset for i in items],
        "messages": [json.dumps(i.trajectory.messages, ensure_ascii=False) for i in items],
        "tools": [json.dumps(i.trajectory.tools, ensure_ascii=False) for i in items],
    })  # fmt: skip
    pq.write_table(table, path)
    return len(items)
