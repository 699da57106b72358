"""The trajectory store: accepted and rejected trajectories as JSONL shards under the run dir.

Each line is flushed (and fsynced) as it is written, and its episode id goes to a manifest.
Reopening the same folder resumes: ids already in a shard are done, a line cut off by a kill
is dropped, so no episode is done twice and none already written is lost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from inftool.gates.records import GatedTrajectory

SHARD_LINES = 1000


class TrajectoryStore:
    def __init__(self, folder: Path, shard_lines: int = SHARD_LINES) -> None:
        self.folder = folder
        self.shard_lines = shard_lines
        folder.mkdir(parents=True, exist_ok=True)
        self.done: dict[str, bool] = {}  # id -> accepted
        self._counts = {"accepted": 0, "rejected": 0}
        for kind in ("accepted", "rejected"):
            for shard in self._shards(kind):
                for line in self._repair(shard):
                    self.done[json.loads(line)["trajectory"]["id"]] = kind == "accepted"
                    self._counts[kind] += 1
        self._write_manifest()
        self._open: dict[str, tuple[Path, IO[str]]] = {}
        self._manifest = (folder / "manifest.jsonl").open("a", encoding="utf-8")

    def _shards(self, kind: str) -> list[Path]:
        return sorted(self.folder.glob(f"{kind}-*.jsonl"))

    @staticmethod
    def _repair(shard: Path) -> list[str]:
        """Complete lines of a shard; a last line cut off by a kill is truncated away."""
        data = shard.read_bytes()
        keep = data[: data.rfind(b"\n") + 1]
        lines = []
        for line in keep.decode("utf-8").splitlines():
            try:
                json.loads(line)
                lines.append(line)
            except json.JSONDecodeError:
                break
        text = "".join(f"{line}\n" for line in lines)
        if len(text.encode()) != len(data):
            shard.write_text(text, encoding="utf-8")
        return lines

    def _write_manifest(self) -> None:
        lines = "".join(json.dumps({"id": i, "accepted": a}) + "\n" for i, a in self.done.items())
        (self.folder / "manifest.jsonl").write_text(lines, encoding="utf-8")

    def _shard(self, kind: str) -> IO[str]:
        if kind in self._open and self._counts[kind] % self.shard_lines != 0:
            return self._open[kind][1]
        if kind in self._open:
            self._open[kind][1].close()
        path = self.folder / f"{kind}-{self._counts[kind] // self.shard_lines:05d}.jsonl"
        handle = path.open("a", encoding="utf-8")
        self._open[kind] = (path, handle)
        return handle

    def add(self, item: GatedTrajectory) -> None:
        if item.id in self.done:
            return
        kind = "accepted" if item.accepted else "rejected"
        handle = self._shard(kind)
        handle.write(item.model_dump_json() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
        self._counts[kind] += 1
        self.done[item.id] = item.accepted
        self._manifest.write(json.dumps({"id": item.id, "accepted": item.accepted}) + "\n")
        self._manifest.flush()

    def read(self, kind: str = "accepted") -> Iterator[GatedTrajectory]:
        for shard in self._shards(kind):
            with shard.open(encoding="utf-8") as lines:
                for line in lines:
                    if line.strip():
                        yield GatedTrajectory.model_validate_json(line)

    def close(self) -> None:
        for _, handle in self._open.values():
            handle.close()
        self._manifest.close()

    def __enter__(self) -> TrajectoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
