"""Config mistakes and secrets on the command line (issue 14): each is one clear line, and no
secret reaches stdout, a run-dir name or `.hydra/`."""

from __future__ import annotations

from pathlib import Path

import pytest

from inftool.errors import UserError
from inftool.recipes import precheck


def one_line(result, *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(w in result.stderr for w in words), result.stderr


def all_text(folder: Path) -> str:
    return "\n".join(p.name + "\n" + p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_secrets_stay_out_of_sweep_lines_run_dir_names_and_hydra_files(inftool_cli, tmp_path: Path):
    key, password = "sk-sweepline-0123456789", "hunter2-password"
    result = inftool_cli(
        "-m", "mode=ingest", "seed=1,2", "lm@lm.judge=openai", "lm.judge.model=j", f"lm.judge.api_key={key}",
        f"lm.judge.base_url=http://bob:{password}@127.0.0.1:9/v1",
        "hydra.sweep.dir=sweep", "hydra.sweep.subdir=${hydra.job.override_dirname}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "#0 :" in result.stdout + result.stderr  # Hydra's job line is printed, masked
    for text in (result.stdout, result.stderr, all_text(tmp_path / "sweep")):
        assert key not in text and password not in text
    names = [p.name for p in (tmp_path / "sweep").iterdir()]
    assert len([n for n in names if "mode=ingest" in n and "seed=" in n]) == 2, names  # runs still named


def test_userinfo_in_base_url_stays_out_of_the_error_line_and_run_dir(inftool_cli, tmp_path: Path):
    password = "s3cret-pass-word"
    url = f"http://alice:{password}@127.0.0.1:9/v1"
    result = inftool_cli("mode=eval", "lm@lm.assistant=openai", "lm.assistant.model=m", f"lm.assistant.base_url={url}",
                         "hydra.run.dir=run")  # fmt: skip
    one_line(result, "lm.assistant", "cannot reach", "127.0.0.1:9")
    assert password not in result.stderr + result.stdout and password not in all_text(tmp_path / "run")


def test_absurd_sizes_are_refused_with_the_key(inftool_cli):
    one_line(inftool_cli("synthesis.episodes=1e23"), "synthesis.episodes", "1e+23")
    one_line(inftool_cli("synthesis.concurrency=100000000"), "synthesis.concurrency", "less than or equal to 4096")


def test_sweep_precheck_sees_every_value(tmp_path: Path):
    seeds = ",".join(str(i) for i in range(40))
    with pytest.raises(UserError, match=r"os\.system"):
        precheck(["-m", f"seed={seeds}", "agents.tools._target_=inftool.agents.ToolServer,os.system", "mode=ingest"])


def test_empty_headerless_and_broken_recipes_name_the_file(inftool_cli, tmp_path: Path):
    folder = tmp_path / "c" / "recipe"
    folder.mkdir(parents=True)
    (folder / "empty.yaml").write_text("\n# nothing\n")
    (folder / "plain.yaml").write_text("synthesis:\n  episodes: 2\n")
    (folder / "broken.yaml").write_text("# @package _global_\nsynthesis:\n  episodes: 2\n   concurrency: [\n")
    conf = ["--config-dir", str(tmp_path / "c")]
    one_line(inftool_cli(*conf, "recipe=empty"), "empty.yaml", "is empty")
    one_line(inftool_cli(*conf, "recipe=plain"), "plain.yaml", "# @package _global_")
    one_line(inftool_cli(*conf, "recipe=broken"), "broken.yaml:4:", "invalid YAML")


def test_trainer_none_works_on_any_recipe(inftool_cli):
    result = inftool_cli("trainer=none", "mode=ingest", "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr


def test_documented_keys_work_without_a_plus(inftool_cli, tmp_path: Path):
    spec = Path(__file__).resolve().parents[1] / "recipes" / "specs" / "finance.openai.json"
    result = inftool_cli("mode=ingest", f"toolsets.extra.path={spec}", "agents.tools.program=none.json",
                         "hydra.run.dir=run")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert any(line.split()[:2] == ["extra", "openai"] for line in result.stdout.splitlines()), result.stdout


def test_unknown_key_lists_what_is_allowed_there(inftool_cli):
    one_line(inftool_cli("toolsets.extra.pth=x"), "toolsets.extra.pth", "allowed here: format, mcp_command, mcp_url")
    one_line(inftool_cli("synthesis.episods=3"), "synthesis.episods", "episodes")
