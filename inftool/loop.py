"""The loop driver: wires the stages for one run. Today: ingest the recipe's toolsets.

Later stages (synthesize → gate → store → train → evaluate → re-weight) plug in here as plain
functions of the validated config and typed records.
"""

from __future__ import annotations

import json
from pathlib import Path

from inftool.config import InftoolConfig
from inftool.errors import UserError
from inftool.specs import Toolset, load_toolset
from inftool.specs.loaders import spec_files


def resolve_spec_path(path: str, search_dirs: list[Path]) -> Path:
    """A toolset path: absolute; else relative to the cwd; else to a config folder or its recipes."""
    candidate = Path(path).expanduser()
    if candidate.is_absolute() or candidate.exists():
        return candidate
    from inftool.recipes import conf_dir

    for folder in [*search_dirs, conf_dir()]:
        for base in (folder / "recipe", folder):
            if (base / path).exists():
                return base / path
    return candidate


def ingest(config: InftoolConfig, search_dirs: list[Path]) -> list[Toolset]:
    toolsets = []
    for name, toolset_cfg in config.toolsets.items():
        path = resolve_spec_path(toolset_cfg.path, search_dirs)
        if not path.exists():
            raise UserError(f"toolsets.{name}.path: no such file or folder '{toolset_cfg.path}'")
        toolset = load_toolset(name, path, toolset_cfg.format)
        if not toolset.tools:
            first = f": {toolset.issues[0]}" if toolset.issues else ""
            raise UserError(f"toolsets.{name}: no tool could be loaded from '{path}'{first}")
        toolsets.append(toolset)
    return toolsets


def print_toolsets(toolsets: list[Toolset]) -> None:
    print(f"{'toolset':<16}{'format':<10}{'files':>6}{'tools':>7}{'issues':>8}")
    for ts in toolsets:
        files = len(spec_files(Path(ts.source)))
        print(f"{ts.name:<16}{ts.source_format:<10}{files:>6}{len(ts.tools):>7}{len(ts.issues):>8}")
        for issue in ts.issues[:5]:
            print(f"  ! {issue}")
        if len(ts.issues) > 5:
            print(f"  ! … {len(ts.issues) - 5} more in spec_issues.jsonl")


def save_toolsets(toolsets: list[Toolset], run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "toolsets.jsonl").open("w") as out:
        for ts in toolsets:
            out.write(ts.model_dump_json() + "\n")
    with (run_dir / "spec_issues.jsonl").open("w") as out:
        for ts in toolsets:
            for issue in ts.issues:
                out.write(json.dumps({"toolset": ts.name, **issue.model_dump()}) + "\n")


def run(config: InftoolConfig, run_dir: Path, search_dirs: list[Path] = ()) -> list[Toolset]:  # type: ignore[assignment]
    toolsets = ingest(config, list(search_dirs))
    save_toolsets(toolsets, run_dir)
    print_toolsets(toolsets)
    if config.mode == "run":
        from inftool.lm import build_lms, configure_cache, usage_table, write_usage

        configure_cache(run_dir)
        lms = build_lms(config.lm)  # an unreachable endpoint stops the run here, before any episode
        print(usage_table(lms))
        write_usage(lms, run_dir)
    print(f"run dir: {run_dir}")
    return toolsets
