"""The optimize stage on the embedded model: compiled programs are saved, load, and change the
prompt the agent's LM receives; a recipe picks up programs saved beside it."""

from __future__ import annotations

import json
from pathlib import Path

from inftool.agents import ToolServer
from inftool.agents.tool_server import EpisodeState
from inftool.config import validate
from inftool.lm import ChatRequest, ChatResult, RoleClient, RoleLM, build_lms, configure_cache
from inftool.loop import ingest, optimize_step
from inftool.recipes import compose_config


class Recorder:
    """Records every prompt; answers with a valid simulated result."""

    name = "recorder"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def where(self) -> str:
        return "test"

    def complete(self, request: ChatRequest) -> ChatResult:
        self.prompts.append("\n".join(str(m.get("content")) for m in request.messages))
        return ChatResult(content=json.dumps({"result": {"status": "ok"}}))


def prompt_sent(program: str | None, tool, arguments: dict) -> str:
    server = ToolServer()
    if program:
        server.load(program)
    recorder = Recorder()
    server.set_lm(RoleLM(RoleClient("tools", recorder), temperature=0.0, max_tokens=64, cache=False))
    import asyncio

    asyncio.run(server.aforward(tool, arguments, EpisodeState()))
    return recorder.prompts[-1]


def test_optimize_saves_programs_that_change_what_the_agents_send(tmp_path: Path):
    # seed=1 samples read_file among the tools' examples: the tool server's LM writes free text only
    # (a file's content), so a tool whose result has none makes no LM call and leaves no demo
    config = validate(compose_config(["optimize.agents=[tools,user]", "optimize.examples=2", "synthesis.max_turns=2",
                                      "seed=1"]))  # fmt: skip
    configure_cache(tmp_path)
    toolsets = ingest(config, [])
    report = optimize_step(config, toolsets, build_lms(config.lm), tmp_path, None)
    assert set(report) == {"tools", "user"}
    for role, entry in report.items():
        assert Path(entry["program"]).is_file() and entry["program"].startswith(str(tmp_path / "optimize"))
        assert entry["metric_after"] >= entry["metric_before"] or entry["kept"] == "original", role
    assert report["tools"]["demos"] > 0  # every schema-valid simulated result can be a demo
    program = json.loads(Path(report["tools"]["program"]).read_text())
    demo = program["simulate"]["demos"][0]
    tool = next(t for ts in toolsets for t in ts.tools if t.name == "read_file")
    arguments = {"path": "notes/todo.md"}  # not the demo's own arguments
    before, after = prompt_sent(None, tool, arguments), prompt_sent(report["tools"]["program"], tool, arguments)
    assert before != after and demo["arguments"] in after and demo["arguments"] not in before


def test_a_recipe_loads_programs_saved_beside_it(inftool_cli, tmp_path: Path):
    team = tmp_path / "team" / "recipe"
    team.mkdir(parents=True)
    (team / "mine.yaml").write_text(
        "# @package _global_\ntoolsets:\n  finance: {path: specs/finance.openai.json}\n"
        "synthesis: {episodes: 1, concurrency: 1, max_turns: 2}\n"
    )
    first = inftool_cli("--config-dir", str(tmp_path / "team"), "recipe=mine", "loop.stages=[optimize]",
                        "optimize.agents=[tools]", "optimize.examples=2", "optimize.save_to=recipe",
                        "hydra.run.dir=run1")  # fmt: skip
    assert first.returncode == 0, first.stderr[-2000:]
    saved = team / "mine.tools.json"
    assert saved.is_file() and json.loads(saved.read_text())["simulate"]["demos"]
    second = inftool_cli("--config-dir", str(tmp_path / "team"), "recipe=mine", "loop.stages=[synthesize]",
                         "hydra.run.dir=run2")  # fmt: skip
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"agents.tools: loading the optimized program {saved}" in second.stdout
