"""The `inftool` command line: help, runs, sweeps, and one clear line for every user mistake."""

from __future__ import annotations

import zipfile
from pathlib import Path

import yaml

from tests.conftest import ROOT


def test_help_lists_recipes_and_groups(inftool_cli):
    result = inftool_cli("--help")
    assert result.returncode == 0
    assert "quickstart" in result.stdout
    assert "lm" in result.stdout and "embedded | hf | openai" in result.stdout


def test_default_run_loads_quickstart_specs(inftool_cli, tmp_path: Path):
    result = inftool_cli("mode=ingest", "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    assert lines["travel"][1:4] == ["openapi", "1", "6"]
    assert lines["finance"][1:4] == ["openai", "1", "4"]
    assert lines["workspace"][1:4] == ["mcp", "1", "5"]
    assert (tmp_path / "run" / "toolsets.jsonl").is_file()
    assert yaml.safe_load((tmp_path / "run" / ".hydra" / "config.yaml").read_text())["mode"] == "ingest"


def test_typo_is_one_line_naming_the_key(inftool_cli):
    result = inftool_cli("synthesis.episods=3")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "synthesis.episods" in result.stderr and "episodes" in result.stderr


def test_wrong_type_and_unknown_recipe(inftool_cli):
    wrong = inftool_cli("synthesis.episodes=many")
    assert wrong.returncode == 2 and "synthesis.episodes" in wrong.stderr and wrong.stderr.count("\n") == 1
    unknown = inftool_cli("recipe=quikstart")
    assert unknown.returncode == 2 and "quikstart" in unknown.stderr and "quickstart" in unknown.stderr
    group = inftool_cli("lm@lm.user=gpt")
    assert group.returncode == 2 and "embedded" in group.stderr and "openai" in group.stderr


def test_recipe_with_foreign_target_is_refused(inftool_cli, tmp_path: Path):
    user_conf = tmp_path / "team_conf" / "recipe"
    user_conf.mkdir(parents=True)
    marker = tmp_path / "pwned"
    (user_conf / "evil.yaml").write_text(
        "# @package _global_\n# Run: inftool --config-dir team_conf recipe=evil\n# looks harmless\n"
        f"synthesis:\n  episodes: 1\nhydra:\n  callbacks:\n    boom:\n      _target_: os.system\n"
        f"      command: touch {marker}\n"
    )
    result = inftool_cli("--config-dir", str(tmp_path / "team_conf"), "recipe=evil", "hydra.run.dir=run")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "hydra.callbacks" in result.stderr and "may not set Hydra" in result.stderr
    assert not marker.exists() and not (tmp_path / "run").exists()


def test_recipe_cannot_widen_its_own_allow_list(inftool_cli, tmp_path: Path):
    user_conf = tmp_path / "c" / "recipe"
    user_conf.mkdir(parents=True)
    (user_conf / "sneaky.yaml").write_text("# @package _global_\nsafety:\n  allow_targets: [os]\n")
    result = inftool_cli("--config-dir", str(tmp_path / "c"), "recipe=sneaky")
    assert result.returncode == 2 and "allow_targets" in result.stderr


def test_user_recipe_from_own_folder_runs(inftool_cli, tmp_path: Path):
    user_conf = tmp_path / "mine" / "recipe"
    (user_conf / "specs").mkdir(parents=True)
    (user_conf / "specs" / "tools.json").write_text(
        '[{"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}}}]'
    )
    (user_conf / "mine.yaml").write_text(
        "# @package _global_\n# Run: inftool --config-dir mine recipe=mine\n# my recipe\n"
        "toolsets:\n  own: {path: specs/tools.json}\n"
    )
    assert "mine" in inftool_cli("--config-dir", "mine", "--help").stdout
    result = inftool_cli("--config-dir", "mine", "recipe=mine", "mode=ingest", "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    assert any(line.split()[:4] == ["own", "openai", "1", "1"] for line in result.stdout.splitlines())


def test_multirun_sweeps_seeds(inftool_cli, tmp_path: Path):
    result = inftool_cli("-m", "recipe=quickstart", "seed=1,2", "mode=ingest", "hydra.sweep.dir=sweep")
    assert result.returncode == 0, result.stderr
    seeds = sorted(
        yaml.safe_load((d / ".hydra" / "config.yaml").read_text())["seed"]
        for d in (tmp_path / "sweep").iterdir()
        if d.is_dir()
    )
    assert seeds == [1, 2]


def test_api_keys_never_reach_the_run_dir(inftool_cli, tmp_path: Path):
    literal, from_env = "sk-literal-0123456789", "sk-env-9876543210"
    result = inftool_cli(
        "mode=ingest",
        "lm@lm.assistant=openai",
        "lm.assistant.model=some-model",
        f"lm.assistant.api_key={literal}",
        "lm@lm.judge=openai",
        "lm.judge.model=judge",
        "lm.judge.api_key=${oc.env:TEST_JUDGE_KEY}",
        "hydra.run.dir=run",
        env={"TEST_JUDGE_KEY": from_env},
    )
    assert result.returncode == 0, result.stderr
    written = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert any(p.name == "config.yaml" for p in written)
    for path in written:
        text = path.read_text()
        assert literal not in text and from_env not in text, path
    assert "REDACTED" in (tmp_path / "run" / ".hydra" / "overrides.yaml").read_text()


def test_api_keys_never_reach_a_sweep_dir(inftool_cli, tmp_path: Path):
    secret = "sk-sweep-0123456789"
    result = inftool_cli(
        "-m",
        "mode=ingest",
        "seed=1,2",
        "lm@lm.user=openai",
        "lm.user.model=m",
        f"lm.user.api_key={secret}",
        "hydra.sweep.dir=sweep",
    )
    assert result.returncode == 0, result.stderr
    for path in (tmp_path / "sweep").rglob("*"):
        assert not path.is_file() or secret not in path.read_text(), path


def test_wheel_ships_conf_and_recipes(tmp_path: Path):
    import subprocess
    import sys

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    names = zipfile.ZipFile(next(tmp_path.glob("inftool-*.whl"))).namelist()
    assert "inftool/conf/config.yaml" in names
    assert "inftool/conf/recipe/quickstart.yaml" in names
    assert "inftool/conf/recipe/specs/travel.openapi.yaml" in names
    assert "inftool/conf/lm/embedded.yaml" in names
    packages = {name.rsplit("/", 1)[0] for name in names if name.endswith("__init__.py")}
    on_disk = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "inftool").rglob("__init__.py")}
    assert on_disk <= packages  # every sub-package ships


def test_unreachable_lm_is_one_line_naming_role_and_url(inftool_cli):
    result = inftool_cli("lm@lm.judge=openai", "lm.judge.model=x", "lm.judge.base_url=http://127.0.0.1:9/v1")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "lm.judge" in result.stderr and "http://127.0.0.1:9/v1" in result.stderr


def test_run_writes_per_role_lm_usage(inftool_cli, tmp_path: Path):
    import json

    result = inftool_cli("hydra.run.dir=run", "synthesis.episodes=2", "scenarios.weights={single: 1}",
                         "loop.stages=[synthesize]")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "accepted" in result.stdout and (tmp_path / "run" / "round_0" / "run_summary.json").is_file()
    usage = json.loads((tmp_path / "run" / "lm_usage.json").read_text())
    assert set(usage) == {"user", "assistant", "tools", "judge"}
    assert usage["assistant"]["backend"].startswith("embedded:")
