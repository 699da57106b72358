"""The trajectory store: accepted and rejected trajectories as JSONL shards under the run dir.

Each line is flushed (and fsynced) as it is written, and its episode id goes to a manifest.
Reopening the same folder resumes: ids already in a shard are done, and a line that does not
read back (one cut off by a kill, a garbled one) moves to `quarantine/<shard>.jsonl` with its
line number, so no episode is done twice and none already written is lost.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from inftool.gates.records import GatedTrajectory

SHARD_LINES = 1000
QUARANTINE = "quarantine"  # a sub-folder, so the shard globs never read it back


class TrajectoryStore:
    def __init__(self, folder: Path, shard_lines: int = SHARD_LINES) -> None:
        self.folder = folder
        self.shard_lines = shard_lines
        folder.mkdir(parents=True, exist_ok=True)
        self.done: dict[str, bool] = {}  # id -> accepted
        self._counts = {"accepted": 0, "rejected": 0}
        for kind in ("accepted", "rejected"):
            for shard in self._shards(kind):
                for episode in self._repair(shard):
                    self.done[episode] = kind == "accepted"
                    self._counts[kind] += 1
        self._write_manifest()
        self._open: dict[str, tuple[Path, IO[str]]] = {}
        self._manifest = (folder / "manifest.jsonl").open("a", encoding="utf-8")

    def _shards(self, kind: str) -> list[Path]:
        return sorted(self.folder.glob(f"{kind}-*.jsonl"))

    def _repair(self, shard: Path) -> list[str]:
        """Episode ids of the shard's readable records (what `read` can load). Every other non-blank
        line is quarantined and the shard rewritten with the rest: a bad line costs that line only."""
        data = shard.read_bytes()
        episodes: list[str] = []
        good: list[bytes] = []
        bad: list[tuple[int, bytes]] = []
        for number, raw in enumerate(data.split(b"\n"), 1):
            if not raw.strip():
                continue
            try:
                episodes.append(GatedTrajectory.model_validate_json(raw).id)
                good.append(raw)
            except ValidationError:  # invalid JSON, invalid UTF-8 and a wrong shape all land here
                bad.append((number, raw))
        if bad:
            self._quarantine(shard, bad)
        text = b"".join(line + b"\n" for line in good)
        if text != data:
            _replace(shard, text)
        return episodes

    def _quarantine(self, shard: Path, bad: list[tuple[int, bytes]]) -> None:
        """Append the bad lines (original bytes kept via surrogateescape) before the shard loses them."""
        target = self.folder / QUARANTINE / shard.name
        target.parent.mkdir(exist_ok=True)
        with target.open("a", encoding="utf-8") as out:
            for number, raw in bad:
                text = raw.decode("utf-8", "surrogateescape")
                out.write(json.dumps({"shard": shard.name, "line": number, "text": text}) + "\n")
            out.flush()
            os.fsync(out.fileno())
        numbers = ", ".join(str(n) for n, _ in bad[:5]) + (", …" if len(bad) > 5 else "")
        print(f"store: moved {len(bad)} unreadable line(s) of {shard} (line {numbers}) to {target}", file=sys.stderr)

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
        """One kind's items, shard by shard, a line at a time (nothing holds the round)."""
        for shard in self._shards(kind):
            with shard.open(encoding="utf-8") as lines:
                for line in lines:
                    if line.strip():
                        yield GatedTrajectory.model_validate_json(line)

    def __iter__(self) -> Iterator[GatedTrajectory]:
        """Every stored item, accepted then rejected; each iteration reads the shards again."""
        yield from self.read("accepted")
        yield from self.read("rejected")

    def __len__(self) -> int:
        return len(self.done)

    def close(self) -> None:
        for _, handle in self._open.values():
            handle.close()
        self._manifest.close()

    def __enter__(self) -> TrajectoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _replace(path: Path, data: bytes) -> None:
    """Rewrite `path` atomically: a kill mid-repair leaves the old shard or the new one, never half."""
    temp = path.with_name(path.name + ".tmp")  # outside the `<kind>-*.jsonl` glob
    with temp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, path)
