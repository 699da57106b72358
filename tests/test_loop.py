"""The closed loop: held-out scoring, gap-driven re-weighting, the report (opened in headless
Chromium), and a real two-round run on the embedded model that is killed in round 1 and
resumed without redoing round 0."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from inftool.eval.gaps import failure_weights, next_mix
from inftool.eval.heldout import HeldoutItem, heldout_summary, score_heldout
from inftool.lm import ChatRequest, ChatResult, RoleClient, RoleLM, ToolCall
from inftool.loop.markers import step_seconds
from inftool.report import loop_table, write_report
from inftool.scenarios import ScenarioSampler
from inftool.specs import Toolset, ToolSpec


def toolsets() -> list[Toolset]:
    def tool(name: str) -> ToolSpec:
        return ToolSpec(name=name, description=name, parameters={
            "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})  # fmt: skip

    return [Toolset(name=d, source=d, source_format="openai", tools=[tool(f"{d}_{i}") for i in range(3)])
            for d in ("travel", "money")]  # fmt: skip


def heldout_items() -> list[HeldoutItem]:
    scenarios = ScenarioSampler(toolsets(), seed=7, prefix="h").sample(16, {"single": 1, "irrelevance": 1})
    items = []
    for s in scenarios:
        messages = [{"role": "system", "content": "s"}, {"role": "user", "content": f"request {s.id}"}]
        expected = [] if s.kind == "irrelevance" else [{"name": s.targets[0], "arguments": {"city": "Oslo"}}]
        items.append(HeldoutItem(id=s.id, scenario=s, messages=messages, expected=expected))
    return items


class AlwaysCalls:
    """Calls the first offered tool correctly: right on `single`, wrong on `irrelevance`."""

    name = "always-calls"

    def where(self) -> str:
        return "test"

    def complete(self, request: ChatRequest) -> ChatResult:
        name = request.tools[0]["function"]["name"]
        return ChatResult(tool_calls=[ToolCall(id="c0", name=name, arguments={"city": "Oslo"})])


def test_heldout_scores_per_kind_and_gaps_set_the_next_mix(tmp_path: Path):
    from inftool.agents import Assistant

    items = heldout_items()
    assistant = Assistant()
    assistant.set_lm(RoleLM(RoleClient("assistant", AlwaysCalls()), temperature=0.0, max_tokens=64))
    results = score_heldout(items, assistant, tmp_path / "heldout.jsonl")
    summary = heldout_summary(results)
    assert summary["by_kind"] == {"irrelevance": 0.0, "single": 1.0}
    assert len((tmp_path / "heldout.jsonl").read_text().splitlines()) == len(items)
    weights = {"single": 1.0, "irrelevance": 1.0, "clarify": 1.0, "parallel": 0.0}
    mix = next_mix(items, results, weights, ["travel", "money"], floor=0.1, n_variations=3, round_index=0, seed=0)
    # failed kinds get more weight, passed ones keep the floor, unseen ones theirs, zero stays zero
    assert mix["weights"] == {"single": 0.1, "irrelevance": 1.0, "clarify": 1.0, "parallel": 0.0}
    assert set(mix["domain_weights"]) == {"travel", "money"}
    variations = mix["variations"]
    assert len(variations) == 3 and all(v["kind"] == "irrelevance" and v["id"].startswith("v0-") for v in variations)
    originals = {i.id: i.scenario for i in items}
    assert all(v["seed"] not in {s.seed for s in originals.values()} for v in variations)  # new plan, same tools
    assert failure_weights({"a": 1.0}, {"a": 1.0}, floor=0.05) == {"a": 0.05}


HISTORY = [
    {"round": 0, "baseline": {"assistant": "base", "bfcl": {"simple_python": 0.1, "irrelevance": 0.3},
                              "heldout": {"accuracy": 0.2, "by_kind": {"single": 0.2}}},
     "synthesize": {"episodes": 8, "accepted": 2, "mix": {"single": 5, "clarify": 3},
                    "gate_pass_rate": {"format": 1.0, "consistency": 0.25}, "tokens_per_accepted": 900.0},
     "train": {"rewards": [0.1, 0.3]},
     "eval": {"assistant": "r0", "bfcl": {"simple_python": 0.2, "irrelevance": 0.4},
              "heldout": {"accuracy": 0.3, "by_kind": {"single": 0.3}}}},
    {"round": 1, "synthesize": {"episodes": 8, "accepted": 3, "mix": {"single": 2, "clarify": 6},
                                "gate_pass_rate": {"format": 1.0, "consistency": 0.4}, "tokens_per_accepted": 800.0},
     "train": {"rewards": [0.35, 0.5]},
     "eval": {"assistant": "r1", "bfcl": {"simple_python": 0.3, "irrelevance": 0.5},
              "heldout": {"accuracy": 0.5, "by_kind": {"single": 0.5}}}},
]  # fmt: skip


def open_in_chromium(report: Path, screenshot: Path) -> str:
    """The report's <body> tag after Chromium loaded it (its script counts decoded plots)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed (scripts/install-cpu-test-deps.sh installs it)"
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run([*flags, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120)
    subprocess.run([*flags, f"--screenshot={screenshot}", "--window-size=1400,2600", report.as_uri()],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    return dom.stdout[dom.stdout.index("<body") :].split(">", 1)[0]


def assert_plots_render(report: Path, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    body = open_in_chromium(report, tmp_path / "shot.png")
    assert 'data-plots="6"' in body and 'data-plots-rendered="6"' in body, body
    pixels = np.asarray(Image.open(tmp_path / "shot.png").convert("RGB").resize((140, 260))).reshape(-1, 3)
    saturated = pixels[pixels.max(axis=1).astype(int) - pixels.min(axis=1) > 40]  # the plotted data, not text
    assert len({tuple(p) for p in saturated}) > 20


def test_report_is_self_contained_and_renders_in_chromium(tmp_path: Path):
    report = write_report(HISTORY, tmp_path)
    page = report.read_text()
    assert "http://" not in page and "https://" not in page  # opens offline
    assert page.count('src="data:image/png;base64,') == 6
    assert_plots_render(report, tmp_path)
    table = loop_table(HISTORY)
    assert table.splitlines()[1].startswith("base") and "r1" in table.splitlines()[-1]


def wait_for(path: Path, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert process.poll() is None, "inftool exited before reaching the kill point"
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.5)


def test_two_rounds_killed_in_round_1_resume_without_redoing_round_0(tmp_path: Path):
    run_dir = tmp_path / "run"
    args = [sys.executable, "-m", "inftool", f"hydra.run.dir={run_dir}", "loop.rounds=2", "synthesis.episodes=2",
            "trainer.steps=1", "eval.limit=1", "eval.categories=[simple_python,irrelevance]",
            "loop.heldout.items=2", "loop.schedule=[sft]", "loop.sft.steps=1"]  # fmt: skip
    # SFT trains on every verified plan, so each round has a new policy (GRPO may find no varied group)
    first = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)  # fmt: skip
    try:
        wait_for(run_dir / "round_1" / "data", first, timeout=900)  # round 1 is synthesizing
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    round_0 = run_dir / "round_0"
    markers = {p.name: p.stat().st_mtime_ns for p in round_0.glob("*.done.json")}
    assert set(markers) >= {"baseline.done.json", "synthesize.done.json", "train.done.json", "eval.done.json"}
    assert not (run_dir / "round_1" / "eval.done.json").exists()
    seconds = step_seconds(round_0)  # each finished step's wall time, kept for a resumed run's total
    assert all(seconds[name] > 0 for name in ("baseline", "synthesize", "train", "eval"))
    kept = json.loads((run_dir / "loop_summary.json").read_text())  # the killed run's finished round
    assert [r["round"] for r in kept] == [0] and kept[0]["eval"]["bfcl"]

    second = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=1200)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "== round_0:" not in second.stdout  # nothing of round 0 ran again
    assert "round_0: train finished earlier" in second.stdout
    assert {p.name: p.stat().st_mtime_ns for p in round_0.glob("*.done.json")} == markers
    assert step_seconds(round_0) == seconds and step_seconds(run_dir / "round_1")["eval"] > 0
    history = json.loads((run_dir / "loop_summary.json").read_text())
    assert [r["round"] for r in history] == [0, 1]
    assert history[1]["eval"]["assistant"] == "embedded:policy-round_1.gguf"  # the trained policy was evaluated
    assert history[1]["weights"] == history[0]["reweight"]["weights"]  # round 1 sampled the gap-driven mix
    assert_plots_render(run_dir / "report.html", tmp_path)
