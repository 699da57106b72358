"""Step markers: a step's result is written as RUN/round_N/<step>.done.json, and a rerun of the
same run dir reads it back instead of running the step again."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def step(round_dir: Path, name: str, work: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """`work(*args)` unless its marker exists; the marker (its result) is written atomically."""
    marker = round_dir / f"{name}.done.json"
    if marker.is_file():
        print(f"{round_dir.name}: {name} finished earlier (marker {marker.name}), skipped")
        return json.loads(marker.read_text())
    print(f"\n== {round_dir.name}: {name} ==")
    round_dir.mkdir(parents=True, exist_ok=True)
    result = work(*args)
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2, default=str))
    tmp.replace(marker)
    return result
