"""Step markers: a step's result is written as RUN/round_N/<step>.done.json, and a rerun of the
same run dir reads it back instead of running the step again. Each step's wall time goes beside it
(RUN/round_N/step_seconds.json), so a run resumed in another process still adds up its time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SECONDS = "step_seconds.json"
SUMMARY = "loop_summary.json"  # RUN/: the finished rounds' records, rewritten as each one ends


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    tmp.replace(path)  # atomic: a killed run leaves the old file or the new one


def step(round_dir: Path, name: str, work: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """`work(*args)` unless its marker exists; the marker (its result) is written atomically."""
    marker = round_dir / f"{name}.done.json"
    if marker.is_file():
        print(f"{round_dir.name}: {name} finished earlier (marker {marker.name}), skipped")
        return json.loads(marker.read_text())
    print(f"\n== {round_dir.name}: {name} ==")
    round_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    result = work(*args)
    write_json(round_dir / SECONDS, {**step_seconds(round_dir), name: round(time.perf_counter() - start, 1)})
    write_json(marker, result)
    return result


def step_seconds(round_dir: Path) -> dict[str, float]:
    """The wall time of each of the round's finished steps, in the order they finished."""
    path = round_dir / SECONDS
    return json.loads(path.read_text()) if path.is_file() else {}
