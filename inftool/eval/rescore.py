"""BFCL scores again from a saved `bfcl.jsonl`, without generating: `inftool mode=eval eval.rescore=PATH`.

The file is read as model outputs only: every row must be one that `evaluate_bfcl` writes (`id`,
`category`, `calls`; `passed` and `reason` are recomputed), for an item BFCL has, once. Single-turn
rows go through BFCL's checker again (`official.score`); multi-turn rows are replayed on BFCL's tool
classes after each saved call string is rebuilt from a parsed name and literal arguments, so a file
can make BFCL's executor run nothing but the entry's own functions. A row the model never finished
(an LM failure) stays failed. Any other content is one error naming the file and line (never its
text: the path may come from a recipe); nothing else is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inftool.errors import UserError
from inftool.eval import official
from inftool.eval.bfcl import CATEGORIES, SINGLE_TURN, ItemResult, Scores, scores, write_results
from inftool.eval_data import bfcl_category

MAX_BYTES = 256 * 1024 * 1024
SUFFIX = ".jsonl"
LM_FAILURE = "LM failure"


class SavedCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=256)
    arguments: dict[str, Any] | str


class SavedStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turn: int = Field(ge=0, le=1000)
    calls: list[str] = Field(max_length=1000)


class SavedRow(BaseModel):
    """One row of `bfcl.jsonl`."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(max_length=200)
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    passed: bool
    reason: str
    calls: list[SavedCall] | list[SavedStep] = Field(max_length=1000)


def _problem(exc: ValidationError) -> str:
    first = exc.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"] if "[" not in str(p))  # field names, not union tags
    return f"{where or 'row'}: {first['msg']}"


Saved = tuple[SavedRow, dict[str, Any], dict[str, Any] | None]


def read_saved(path: Path) -> list[Saved]:
    """The rows of a saved `bfcl.jsonl`, checked, each with its BFCL entry and possible answer;
    UserError naming file:line on anything else."""
    if path.suffix != SUFFIX:
        raise UserError(f"eval.rescore: {path} is not a {SUFFIX} file (a bfcl.jsonl that inftool wrote)")
    if not path.is_file():
        raise UserError(f"eval.rescore: {path} is not a file; give the bfcl.jsonl of an earlier run")
    if path.stat().st_size > MAX_BYTES:
        raise UserError(f"eval.rescore: {path} is over {MAX_BYTES // 2**20} MiB; a bfcl.jsonl is far smaller")
    rows: list[Saved] = []
    seen: set[str] = set()
    items: dict[str, dict[str, tuple[dict[str, Any], dict[str, Any] | None]]] = {}
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            where = f"eval.rescore: {path}:{number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise UserError(f"{where}: not UTF-8 text; expected a row of inftool's bfcl.jsonl") from None
            if not line.strip():
                continue
            try:
                row = SavedRow.model_validate_json(line)
            except ValidationError as exc:
                raise UserError(f"{where}: {_problem(exc)}; expected a row of inftool's bfcl.jsonl "
                                "(id, category, passed, reason, calls)") from None  # fmt: skip
            if row.category not in items:
                items[row.category] = {entry["id"]: (entry, answer) for entry, answer in bfcl_category(row.category)}
            if row.id not in items[row.category]:
                raise UserError(f"{where}: no BFCL item {row.id!r} in {row.category}")
            if row.id in seen:
                raise UserError(f"{where}: {row.id!r} appears twice")
            entry, answer = items[row.category][row.id]
            if problem := _calls_problem(row, entry):
                raise UserError(f"{where}: {problem}")
            seen.add(row.id)
            rows.append((row, entry, answer))
    if not rows:
        raise UserError(f"eval.rescore: {path} holds no rows")
    return rows


def _calls_problem(row: SavedRow, entry: dict[str, Any]) -> str | None:
    single = row.category in SINGLE_TURN
    if row.calls and isinstance(row.calls[0], SavedCall) != single:
        return f"{row.category} rows hold {'name/arguments calls' if single else 'turn/calls steps'}"
    if single:
        return None
    from inftool.eval.multi_turn import class_docs, parse_call

    names = {d["name"] for d in class_docs(entry["involved_classes"])}
    for step in row.calls:
        assert isinstance(step, SavedStep)
        if step.turn >= len(entry["question"]):
            return f"turn {step.turn}: {row.id} has {len(entry['question'])} turns"
        for call in step.calls:
            try:
                parse_call(call, names)
            except ValueError as exc:
                return f"turn {step.turn}: {exc}"
    return None


def rescore(row: SavedRow, entry: dict[str, Any], answer: dict[str, Any] | None) -> ItemResult:
    calls = [c.model_dump() for c in row.calls]
    if row.reason.startswith(LM_FAILURE) and not row.passed:
        return ItemResult(row.id, row.category, False, row.reason, calls)
    if row.category in SINGLE_TURN:
        passed, reason = official.score(row.category, entry, answer, calls)
        return ItemResult(row.id, row.category, passed, reason, calls)
    from inftool.eval.multi_turn import rescore_multi_turn

    assert answer is not None
    passed, reason = rescore_multi_turn(entry, answer["ground_truth"], calls)
    return ItemResult(row.id, row.category, passed, reason, calls)


def rescore_bfcl(path: Path, out_path: Path) -> tuple[Scores, int]:
    """Scores of the saved rows by today's checkers, and how many verdicts changed; the new
    per-item results go to `out_path` (the file is read whole first, so it may be `path`)."""
    saved = read_saved(path)
    results = [rescore(*item) for item in saved]
    write_results(results, out_path)
    changed = sum(row.passed != new.passed for (row, _, _), new in zip(saved, results, strict=True))
    return scores(results, list(dict.fromkeys(r.category for r in results))), changed
