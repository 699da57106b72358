"""`eval.rescore` reads only a bfcl.jsonl of model outputs: every other input is one error line that
names the file and line and repeats none of its text; saved multi-turn calls are rebuilt from
literals before BFCL's executor sees them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inftool.errors import UserError
from inftool.eval import rescore_bfcl
from inftool.eval.bfcl import sample

GOOD = {"id": "simple_python_0", "category": "simple_python", "passed": False, "reason": "",
        "calls": [{"name": "calculate_triangle_area", "arguments": {"base": 10, "height": 5}}]}  # fmt: skip


def write(tmp_path: Path, *rows: object, name: str = "bfcl.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def refused(path: Path) -> str:
    with pytest.raises(UserError) as caught:
        rescore_bfcl(path, path.parent / "out.jsonl")
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_good_row_is_scored_again_by_the_checker(tmp_path: Path):
    scores, changed = rescore_bfcl(write(tmp_path, GOOD), tmp_path / "out.jsonl")
    assert scores == {"simple_python": 1.0} and changed == 1  # saved as failed, passes BFCL's checker


@pytest.mark.parametrize(
    ("rows", "says"),
    [
        ([GOOD, "SECRET=abc123 not json"], ":2: "),
        ([{**GOOD, "category": "simple_pythn"}], ":1: category"),
        ([{**GOOD, "id": "simple_python_99999"}], ":1: no BFCL item"),
        ([GOOD, GOOD], ":2: 'simple_python_0' appears twice"),
        ([{**GOOD, "extra": "SECRET=abc123"}], ":1: extra"),
        ([{**GOOD, "calls": [{"name": "f", "arguments": 5}]}], ":1: calls"),
        ([{**GOOD, "calls": [{"turn": 0, "calls": ["f()"]}]}], ":1: simple_python rows hold name/arguments calls"),
        (["[1, 2]"], ":1: "),
    ],
)
def test_bad_rows_are_one_error_naming_file_and_line(tmp_path: Path, rows: list, says: str):
    path = write(tmp_path, *rows)
    message = refused(path)
    assert f"{path}{says}" in message, message
    assert "SECRET" not in message and "abc123" not in message


def test_only_regular_jsonl_files_are_read(tmp_path: Path):
    assert "not a .jsonl file" in refused(write(tmp_path, GOOD, name="bfcl.json"))
    (tmp_path / "dir.jsonl").mkdir()
    assert "not a file" in refused(tmp_path / "dir.jsonl")
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\xff\xfe SECRET\n")
    assert f"{binary}:1: not UTF-8" in refused(binary) and "SECRET" not in refused(binary)
    assert "holds no rows" in refused(write(tmp_path, "", name="empty.jsonl"))


def test_saved_multi_turn_calls_run_only_the_entrys_functions_on_literals(tmp_path: Path):
    entry, _ = sample("multi_turn_base", 1, seed=0)[0]
    row = {"id": entry["id"], "category": "multi_turn_base", "passed": False, "reason": ""}
    marker = tmp_path / "pwned"
    attacks = [f"__import__('os').system('touch {marker}')", f"ls(a=open('{marker}', 'w'))", "exit()",
               "ls(**{'a': 1})", "ls(a=1)(b=2)", "os.system('x')"]  # fmt: skip
    for attack in attacks:
        path = write(tmp_path, {**row, "calls": [{"turn": 0, "calls": [attack]}]})
        assert f"{path}:1: turn 0:" in refused(path), attack
    assert not marker.exists()
    path = write(tmp_path, {**row, "calls": [{"turn": 99, "calls": []}]})
    assert "turn 99" in refused(path)
