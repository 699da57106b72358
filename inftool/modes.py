"""The modes (`mode=...`): `run` ingests the pool and runs the loop (`inftool.loop`); `ingest`
stops after the pool's index; `serve` serves one toolset as an MCP server; `eval` scores
`lm.assistant` on BFCL only, or re-scores an earlier run's saved results (`eval.rescore`)."""

from __future__ import annotations

import json
from pathlib import Path

from inftool.config import InftoolConfig
from inftool.errors import UserError
from inftool.loop import (
    curate_pool,
    evaluate_bfcl_step,
    ingest,
    print_toolsets,
    run_rounds,
    save_issues,
    save_toolsets,
    with_saved_programs,
)
from inftool.mcp import simulated_server
from inftool.specs import Toolset


def serve(config: InftoolConfig, toolsets: list[Toolset]) -> None:
    from inftool.lm import build_lms
    from inftool.loop.build import build_agent
    from inftool.mcp.serve import serve_http, serve_stdio

    by_name = {ts.name: ts for ts in toolsets}
    if config.toolset not in by_name:
        raise UserError(f"toolset: serve mode needs toolset=NAME, one of: {', '.join(by_name) or 'none defined'}")
    tool_server = build_agent(config, "tools", build_lms(config.lm, roles=("tools",))["tools"])  # as agents.tools says
    server = simulated_server(by_name[config.toolset].tools, tool_server, name=f"inftool-{config.toolset}")
    if config.serve.transport == "stdio":
        serve_stdio(server)
    else:
        serve_http(server, config.serve.host, config.port, config.serve.token_env)


def evaluate(config: InftoolConfig, run_dir: Path) -> dict[str, float]:
    """mode=eval: BFCL only, for `lm.assistant`, or, with `eval.rescore=PATH`, the saved results
    of an earlier run scored again without generating; results in RUN/eval/."""
    from inftool.eval import accuracy_table, bfcl_record, rescore_bfcl
    from inftool.lm import build_lms

    if config.eval.rescore:
        accuracy, changed = rescore_bfcl(Path(config.eval.rescore).expanduser(), run_dir / "eval" / "bfcl.jsonl")
        print(accuracy_table(accuracy))
        print(f"re-scored {sum(accuracy.sizes.values())} saved items: {changed} verdicts changed")
    else:
        client = build_lms(config.lm, roles=("assistant",))["assistant"].client
        accuracy = evaluate_bfcl_step(config, client, run_dir / "eval")
    print(f"per-item results: {run_dir / 'eval' / 'bfcl.jsonl'}")
    (run_dir / "eval" / "bfcl_accuracy.json").write_text(json.dumps(bfcl_record(accuracy), indent=2))
    return accuracy


def run(
    config: InftoolConfig, run_dir: Path, search_dirs: list[Path] = (), recipe: Path | None = None
) -> list[Toolset]:  # type: ignore[assignment]
    if config.mode == "eval":
        evaluate(config, run_dir)
        return []
    toolsets = ingest(config, list(search_dirs))
    if config.mode == "serve":
        serve(config, toolsets)
        return toolsets
    print_toolsets(toolsets)
    save_issues(toolsets, run_dir)
    if config.curation.enabled:
        toolsets = curate_pool(config, toolsets, run_dir)
    save_toolsets(toolsets, run_dir)
    if config.mode == "run":
        run_rounds(with_saved_programs(config, recipe), toolsets, run_dir, recipe)
    print(f"run dir: {run_dir}")
    return toolsets
