"""Where BFCL's data lives: the `bfcl-eval` package files, found without importing the package
(its declared dependencies are not installed; it is installed with `--no-deps`)."""

from __future__ import annotations

import importlib.util
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from inftool.errors import UserError
from inftool.specs import ToolSpec


def bfcl_data_dir() -> Path:
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("BFCL data needs the bfcl-eval package: pip install --no-deps bfcl-eval==2026.3.23")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bfcl_category(category: str) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(entry, possible answer or None) pairs of one BFCL v4 category, in file order."""
    data = bfcl_data_dir()
    entries = read_jsonl(data / f"BFCL_v4_{category}.json")
    answers_path = data / "possible_answer" / f"BFCL_v4_{category}.json"
    answers = {a["id"]: a for a in read_jsonl(answers_path)} if answers_path.is_file() else {}
    return [(entry, answers.get(entry["id"])) for entry in entries]


def bfcl_tools(functions: list[dict[str, Any]]) -> dict[str, ToolSpec]:
    """BFCL function docs → ToolSpecs (types normalized), keyed and named by BFCL's own names
    (which may hold dots), as the matcher compares them."""
    from inftool.specs.loaders import _function_tool

    return {
        fn["name"]: _function_tool(fn, "bfcl", "", bfcl=True).model_copy(update={"name": fn["name"]})
        for fn in functions
    }


def normalize_question(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


@lru_cache(maxsize=1)
def bfcl_reference() -> tuple[frozenset[str], frozenset[str]]:
    """(normalized BFCL user questions, BFCL function names) from the bfcl-eval package data."""
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
                        questions.add(normalize_question(message["content"]))
    return frozenset(questions), frozenset(names)
