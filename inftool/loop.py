"""The loop driver: wires the stages for one run. Today: ingest → synthesize → gate → store →
export → train (or serve a toolset).

Later stages (synthesize → gate → store → train → evaluate → re-weight) plug in here as plain
functions of the validated config and typed records.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from inftool.config import InftoolConfig, ToolsetConfig
from inftool.data import TrajectoryStore, summarize, summary_text, write_exports
from inftool.errors import UserError
from inftool.gates import DedupGate, GateChain
from inftool.lm import RoleLM
from inftool.mcp import ExternalServer, connect, simulated_server
from inftool.rollout import Agents, Limits, Trajectory, run_synthesis, summary_table
from inftool.scenarios import ScenarioSampler
from inftool.specs import Toolset, load_toolset
from inftool.specs.loaders import spec_files
from inftool.train import TrainResult, train
from inftool.train.local import EMBEDDED_HF_CACHE


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
    """An external MCP server's `tools/list` is its raw spec."""

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
        toolset = load_toolset(name, path, toolset_cfg.format)
        if not toolset.tools:
            first = f": {toolset.issues[0]}" if toolset.issues else ""
            raise UserError(f"toolsets.{name}: no tool could be loaded from '{path}'{first}")
        toolsets.append(toolset)
    return toolsets


def build_agents(config: InftoolConfig, lms: dict[str, RoleLM]) -> Agents:
    """Instantiate the agents from their `_target_` nodes (checked against the allow-list at start)."""
    from hydra.utils import instantiate

    built = {}
    for role in ("user", "assistant", "tools"):
        node = getattr(config.agents, role).model_dump(by_alias=True, exclude={"program"})
        agent = instantiate(node)
        program = getattr(config.agents, role).program
        if program:
            agent.load(program)
        agent.set_lm(lms[role])
        built[role] = agent
    models = {role: lm.client.engine.name for role, lm in lms.items()}
    return Agents(user=built["user"], assistant=built["assistant"], tools=built["tools"], models=models)


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


def build_gates(config: InftoolConfig, lms: dict[str, RoleLM]) -> GateChain:
    from hydra.utils import instantiate

    gates = []
    for node in config.gates.chain:
        if not node.enabled:
            continue
        gate = instantiate(node.model_dump(by_alias=True, exclude={"enabled"}))
        if hasattr(gate, "set_lm"):  # the judge gate uses the `judge` role's LM
            gate.set_lm(lms["judge"])
        gates.append(gate)
    return GateChain(gates)


def synthesize_round(config: InftoolConfig, toolsets: list[Toolset], lms: dict[str, RoleLM], run_dir: Path) -> list:
    """Synthesize → gate → store, resuming in `run_dir`; then export and summarize. Returns the
    gated trajectories of the whole round (earlier runs' included)."""
    agents = build_agents(config, lms)
    chain = build_gates(config, lms)
    store = TrajectoryStore(run_dir / "data", config.data.shard_lines)
    for gate in chain.gates:  # a resumed run still refuses duplicates of what it already accepted
        if isinstance(gate, DedupGate):
            for item in store.read("accepted"):
                gate.remember(item.trajectory)
    sampler = ScenarioSampler(toolsets, config.scenarios.distractors, config.seed, config.scenarios.personas)
    scenarios = sampler.sample(config.synthesis.episodes, config.scenarios.weights)
    todo = [s for s in scenarios if s.id not in store.done]
    if len(todo) < len(scenarios):
        print(f"resuming: {len(scenarios) - len(todo)} of {len(scenarios)} episodes already in {store.folder}")
    limits = Limits(max_turns=config.synthesis.max_turns, max_calls=config.synthesis.max_calls)
    external = {name: s for name, cfg in config.toolsets.items() if (s := external_server(cfg)) is not None}

    def gate_and_store(traj: Trajectory) -> str:
        item = chain(traj)
        store.add(item)
        return "accepted" if item.accepted else "rejected"

    with store:
        trajectories = run_synthesis(
            todo, agents, limits, config.synthesis.concurrency, external=external, on_done=gate_and_store
        )
    print(summary_table(trajectories))
    items = [*store.read("accepted"), *store.read("rejected")]  # this run's and any earlier run's
    summary = summarize(items)
    (run_dir / "run_summary.json").write_text(json.dumps(summary, indent=2))
    print()
    print(summary_text(summary))
    written = write_exports([i for i in items if i.accepted], run_dir / "exports", config.data.exports)
    print("exports: " + ", ".join(f"{fmt} {n} rows" for fmt, n in written.items()) + f" in {run_dir / 'exports'}")
    return items


def report_training(result: TrainResult | Path | None) -> None:
    if isinstance(result, Path):
        print(f"trainer: OpenRLHF job written to {result} (submit it with: bash {result / 'launch.sh'})")
    elif result is not None:
        rewards = ", ".join(f"{r:.2f}" for r in result.rewards) or "n/a"
        print(f"trainer: {result.steps} steps, {result.seconds_per_step:.1f} s/step, reward per step [{rewards}]")
        print(f"trainer: checkpoint {result.checkpoint} (use it: lm@lm.assistant=hf lm.assistant.path=...)")


def serve(config: InftoolConfig, toolsets: list[Toolset]) -> None:
    from inftool.agents import ToolServer
    from inftool.lm import build_lms
    from inftool.mcp.serve import serve_http, serve_stdio

    by_name = {ts.name: ts for ts in toolsets}
    if config.toolset not in by_name:
        raise UserError(f"toolset: serve mode needs toolset=NAME, one of: {', '.join(by_name) or 'none defined'}")
    tool_server = ToolServer()
    tool_server.set_lm(build_lms(config.lm, roles=("tools",))["tools"])
    server = simulated_server(by_name[config.toolset].tools, tool_server, name=f"inftool-{config.toolset}")
    if config.serve.transport == "stdio":
        serve_stdio(server)
    else:
        serve_http(server, config.serve.host, config.port, config.serve.token_env)


def evaluate(config: InftoolConfig, run_dir: Path) -> dict[str, float]:
    """BFCL accuracy of `lm.assistant` per category; per-item results in RUN/eval/bfcl.jsonl."""
    from inftool.eval import accuracy_table, evaluate_bfcl
    from inftool.lm import build_lms

    client = build_lms(config.lm, roles=("assistant",))["assistant"].client
    out = run_dir / "eval" / "bfcl.jsonl"
    cfg = config.eval
    accuracy = evaluate_bfcl(client, cfg.categories, out, cfg.limit, cfg.seed, cfg.concurrency)
    print(accuracy_table(accuracy))
    print(f"per-item results: {out}")
    (run_dir / "eval" / "bfcl_accuracy.json").write_text(json.dumps(accuracy, indent=2))
    return accuracy


def run(config: InftoolConfig, run_dir: Path, search_dirs: list[Path] = ()) -> list[Toolset]:  # type: ignore[assignment]
    if config.mode == "eval":
        evaluate(config, run_dir)
        return []
    toolsets = ingest(config, list(search_dirs))
    if config.mode == "serve":
        serve(config, toolsets)
        return toolsets
    save_toolsets(toolsets, run_dir)
    print_toolsets(toolsets)
    if config.mode == "run":
        from inftool.lm import build_lms, configure_cache, usage_table, write_usage

        configure_cache(run_dir)
        lms = build_lms(config.lm)  # an unreachable endpoint stops the run here, before any episode
        items = synthesize_round(config, toolsets, lms, run_dir)
        report_training(train(config, items, run_dir / "round_0", EMBEDDED_HF_CACHE))
        print()
        print(usage_table(lms))
        write_usage(lms, run_dir)
    print(f"run dir: {run_dir}")
    return toolsets
