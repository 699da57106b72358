"""Exports of accepted trajectories: OpenAI chat fine-tuning JSONL (with `tools`), ShareGPT,
Parquet (loads with HF `datasets`), OpenRLHF prompt data (one row per assistant decision:
`prompt` = messages with the tools rendered into the system message, `label` = JSON of the
expected calls) and BFCL format (question/function + possible_answer) for held-out sets."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
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


class _Jsonl:
    """One JSONL file written row by row; `rows(item)` gives an item's rows."""

    def __init__(self, path: Path, rows: Callable[[GatedTrajectory], Iterable[dict[str, Any]]]) -> None:
        self.out = path.open("w", encoding="utf-8")
        self.rows = rows
        self.count = 0

    def add(self, item: GatedTrajectory) -> None:
        for row in self.rows(item):
            self.out.write(json.dumps(row, ensure_ascii=False) + "\n")
            self.count += 1

    def close(self) -> int:
        self.out.close()
        return self.count


class _Bfcl:
    """BFCL's question file and its possible-answer file, side by side."""

    def __init__(self, folder: Path) -> None:
        self.questions = (folder / "BFCL_synthetic.json").open("w", encoding="utf-8")
        self.answers = (folder / "BFCL_synthetic_possible_answer.json").open("w", encoding="utf-8")
        self.count = 0

    def add(self, item: GatedTrajectory) -> None:
        if (pair := bfcl_rows(item)) is not None:
            self.questions.write(json.dumps(pair[0], ensure_ascii=False) + "\n")
            self.answers.write(json.dumps(pair[1], ensure_ascii=False) + "\n")
            self.count += 1

    def close(self) -> int:
        self.questions.close()
        self.answers.close()
        return self.count


PARQUET_COLUMNS = ("id", "kind", "toolset", "messages", "tools")


class _Parquet:
    """Columns: id, kind, toolset, messages and tools (JSON text), written a row group per
    `batch` items; `datasets.load_dataset("parquet", ...)` reads it."""

    def __init__(self, path: Path, batch: int = 1000) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.schema = pa.schema([(name, pa.string()) for name in PARQUET_COLUMNS])
        self.writer = pq.ParquetWriter(path, self.schema)
        self.batch = batch
        self.pending: list[tuple[str, ...]] = []
        self.count = 0

    def add(self, item: GatedTrajectory) -> None:
        traj = item.trajectory
        messages, tools = json.dumps(traj.messages, ensure_ascii=False), json.dumps(traj.tools, ensure_ascii=False)
        self.pending.append((traj.id, traj.scenario.kind, traj.scenario.toolset, messages, tools))
        if len(self.pending) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self.pending:
            columns = [pa.array(column, pa.string()) for column in zip(*self.pending, strict=True)]
            self.writer.write_table(pa.Table.from_arrays(columns, schema=self.schema))
            self.count += len(self.pending)
            self.pending = []

    def close(self) -> int:
        self._flush()
        self.writer.close()
        return self.count


class ExportWriter:
    """Every requested format under `folder`, fed one accepted trajectory at a time: no export
    holds a round in memory (Parquet is written in row groups)."""

    def __init__(self, folder: Path, formats: Iterable[str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        makers: dict[str, Callable[[], Any]] = {
            "openai": lambda: _Jsonl(folder / "openai_chat.jsonl", lambda i: [openai_row(i)]),
            "sharegpt": lambda: _Jsonl(folder / "sharegpt.jsonl", lambda i: [sharegpt_row(i)]),
            "openrlhf": lambda: _Jsonl(folder / "openrlhf_prompts.jsonl", decision_rows),
            "bfcl": lambda: _Bfcl(folder),
            "parquet": lambda: _Parquet(folder / "trajectories.parquet"),
        }
        self.sinks = {fmt: makers[fmt]() for fmt in dict.fromkeys(formats) if fmt in makers}

    def add(self, item: GatedTrajectory) -> None:
        for sink in self.sinks.values():
            sink.add(item)

    def close(self) -> dict[str, int]:
        """Rows written per format."""
        self.written = {fmt: sink.close() for fmt, sink in self.sinks.items()}
        return self.written

    def __enter__(self) -> ExportWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_exports(items: Iterable[GatedTrajectory], folder: Path, formats: Iterable[str]) -> dict[str, int]:
    """Write each requested format under `folder` in one pass over `items`; returns rows written per format."""
    with ExportWriter(folder, formats) as writer:
        for item in items:
            writer.add(item)
    return writer.written


def write_parquet(items: Iterable[GatedTrajectory], path: Path) -> int:
    sink = _Parquet(path)
    for item in items:
        sink.add(item)
    return sink.close()
