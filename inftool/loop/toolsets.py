"""Ingest: the configured toolsets (spec files and folders, or external MCP servers' `tools/list`)
→ `Toolset`s; curation into domains with near-duplicates merged; the pool's index and the specs'
issues saved in the run dir."""

from __future__ import annotations

import asyncio
import json
import shlex
from pathlib import Path

from inftool.config import InftoolConfig, ToolsetConfig
from inftool.errors import UserError
from inftool.mcp import ExternalServer, connect
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


def external_server(toolset_cfg: ToolsetConfig) -> ExternalServer | None:
    if toolset_cfg.mcp_command:
        return ExternalServer(command=toolset_cfg.mcp_command)
    if toolset_cfg.mcp_url:
        return ExternalServer(url=toolset_cfg.mcp_url)
    return None


def list_external(name: str, server: ExternalServer) -> Toolset:
    """An external MCP server's `tools/list` is its raw spec. A command is printed before it runs
    (the trust model let it through: given on the command line, or allowed there)."""
    if server.command:
        print(f"toolsets.{name}: starting the external MCP server: {shlex.join(server.command)}")

    async def listed() -> list:
        async with connect(server) as client:
            return await client.list_tools()

    try:
        tools = asyncio.run(listed())
    except Exception as exc:
        raise UserError(f"toolsets.{name}: cannot list tools of the MCP server '{server.describe()}': {exc}") from None
    return Toolset(name=name, source=server.describe(), source_format="mcp-server", tools=tools)


def ingest(config: InftoolConfig, search_dirs: list[Path]) -> list[Toolset]:
    toolsets = []
    for name, toolset_cfg in config.toolsets.items():
        server = external_server(toolset_cfg)
        if server is not None:
            toolsets.append(list_external(name, server))
            continue
        assert toolset_cfg.path is not None
        path = resolve_spec_path(toolset_cfg.path, search_dirs)
        if not path.exists():
            raise UserError(f"toolsets.{name}.path: no such file or folder '{toolset_cfg.path}'")
        toolset = load_toolset(name, path, toolset_cfg.format, workers=None)  # a folder loads in parallel
        if not toolset.tools:
            first = f": {toolset.issues[0]}" if toolset.issues else ""
            raise UserError(f"toolsets.{name}: no tool could be loaded from '{path}'{first}")
        toolsets.append(toolset)
    return toolsets


def curate_pool(config: InftoolConfig, toolsets: list[Toolset], run_dir: Path) -> list[Toolset]:
    """Spec toolsets → one toolset per domain, near-duplicates merged (external MCP servers stay
    as they are: their calls run on the server under their own name)."""
    from inftool.specs.curate import curate, filter_pool

    external = {name for name, cfg in config.toolsets.items() if external_server(cfg) is not None}
    cfg = config.curation
    specs = [ts for ts in toolsets if ts.name not in external]
    pool, dropped = filter_pool(specs, cfg.filter)
    if dropped:
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in dropped.most_common())
        print(f"curation.filter: left out {sum(dropped.values()):,} of {sum(len(ts.tools) for ts in specs):,} "
              f"tools ({reasons})")  # fmt: skip
    curated, report = curate(pool, cfg.domains, cfg.merge_threshold, cfg.embedder, config.seed)
    print(report.table())
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "curation.json").write_text(json.dumps({**report.__dict__, "filtered": dict(dropped)}, indent=1))
    return [*curated, *(ts for ts in toolsets if ts.name in external)]


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
    """An index of the pool (a line per toolset: its tools' names, domains and sources; the
    schemas stay in the specs, and each trajectory carries the ones it offered)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "toolsets.jsonl").open("w") as out:
        for ts in toolsets:
            tools = [t.model_dump(include={"name", "domain", "source"}) for t in ts.tools]
            out.write(json.dumps({"name": ts.name, "source": ts.source, "format": ts.source_format, "tools": tools})
                      + "\n")  # fmt: skip


def save_issues(toolsets: list[Toolset], run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "spec_issues.jsonl").open("w") as out:
        for ts in toolsets:
            for issue in ts.issues:
                out.write(json.dumps({"toolset": ts.name, **issue.model_dump()}) + "\n")
