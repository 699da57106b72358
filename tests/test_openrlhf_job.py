"""The OpenRLHF job folder runs where it is sent: `bash launch.sh` with a stand-in `ray` on PATH
(it records its argv and cwd) shows that no recipe value runs as shell, every file the job reads
is inside the uploaded working dir, and the runtime env installs only the shipped inftool wheel."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from inftool.config import OpenRLHFConfig, RewardConfig
from inftool.train import openrlhf_job
from inftool.train.openrlhf_job import write_job
from tests.conftest import ROOT

RAY = """#!{python}
import json, os, sys
with open(os.environ["RAY_RECORD"], "w") as out:
    json.dump({{"argv": sys.argv[1:], "cwd": os.getcwd()}}, out)
"""
CLUSTER_CHECKPOINTS = "/mnt/shared/ckpt/run 7"  # a path on the cluster's shared disk, not on this machine
RAY_WORKING_DIR = "${RAY_RUNTIME_ENV_CREATE_WORKING_DIR}"  # Ray: the unpacked working_dir, in pip lines
INDEX_OPTIONS = ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host")


def grpo_config(**changes: Any) -> OpenRLHFConfig:
    raw = yaml.safe_load((ROOT / "conf" / "trainer" / "openrlhf_grpo.yaml").read_text())
    raw["flags"]["train.agent_func_path"] = "{job_dir}/agent.py"  # the multi-turn variant's file, checked too
    return OpenRLHFConfig(**{**raw, **changes})


def submit(script: Path, cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """`bash launch.sh` as a user runs it, from `cwd`, with the stand-in `ray` first on PATH."""
    bin_dir = cwd / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "ray").write_text(RAY.format(python=sys.executable))
    (bin_dir / "ray").chmod(0o755)
    record = cwd / "ray-argv.json"
    base = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    subprocess.run(["bash", str(script)], cwd=cwd, env={**base, "PATH": path, "RAY_RECORD": str(record), **(env or {})})
    return json.loads(record.read_text()) if record.exists() else {}


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


@pytest.mark.parametrize(
    "payload", ["$(touch {m})", "`touch {m}`", "x;touch {m}", '}}"; touch {m}; echo "', "'$(touch {m})'"]
)
def test_no_recipe_value_runs_as_shell_in_launch_sh(payload: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    marker = tmp_path / "MARKER"
    evil = payload.format(m=marker)
    monkeypatch.setattr(openrlhf_job, "build_wheel", lambda out: out / "inftool-0-py3-none-any.whl", raising=False)
    cfg = grpo_config(ray_address=evil, flags={"actor.model_name_or_path": evil})
    job = write_job([], cfg, RewardConfig(), tmp_path / "job")
    recorded = submit(job / "launch.sh", tmp_path)
    assert not marker.exists()
    assert option(recorded["argv"], "--address") == evil  # passed on as data, byte for byte
    assert option(recorded["argv"], "--actor.model_name_or_path") == evil
    overridden = submit(job / "launch.sh", tmp_path, env={"RAY_ADDRESS": evil})  # the variable is data too
    assert not marker.exists() and option(overridden["argv"], "--address") == evil


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = grpo_config(checkpoint_dir=CLUSTER_CHECKPOINTS)
    return write_job([], cfg, RewardConfig(), tmp_path_factory.mktemp("run") / "round_0" / "train" / "openrlhf_job")


def test_job_folder_runs_where_it_is_sent(job: Path, tmp_path: Path):
    uploaded = tmp_path / "cluster" / "working_dir_files" / "_ray_pkg_1"  # what Ray unpacks on a node
    shutil.copytree(job, uploaded)
    elsewhere = tmp_path / "somewhere"
    elsewhere.mkdir()
    recorded = submit(uploaded / "launch.sh", elsewhere)
    argv, cwd = recorded["argv"], Path(recorded["cwd"])
    assert argv[:2] == ["job", "submit"] and not any(str(job) in arg for arg in argv)
    env = json.loads(option(argv, "--runtime-env-json"))
    working_dir = (cwd / env["working_dir"]).resolve()
    assert working_dir == uploaded.resolve()
    for flag in ("--reward.remote_url", "--data.prompt_dataset", "--train.agent_func_path"):
        path = Path(option(argv, flag))
        assert not path.is_absolute() and (working_dir / path).resolve().is_relative_to(working_dir), flag
        assert (working_dir / path).is_file(), flag
    assert option(argv, "--ckpt.output_dir") == CLUSTER_CHECKPOINTS
    pip = env["pip"]
    options = pip["pip_install_options"]
    assert {"--no-index", "--no-deps"} <= set(options) and not set(INDEX_OPTIONS) & set(options)
    assert "://" not in json.dumps(pip) and len(pip["packages"]) == 1
    package = pip["packages"][0]
    assert package.startswith(f"{RAY_WORKING_DIR}/") and package.endswith(".whl")  # a file, never a name
    wheel = working_dir / package.removeprefix(f"{RAY_WORKING_DIR}/")
    assert wheel.resolve().is_relative_to(working_dir) and wheel.is_file()
    assert {"inftool/gates/reward.py", "inftool/conf/config.yaml"} <= set(zipfile.ZipFile(wheel).namelist())


def test_default_checkpoint_dir_is_inside_the_working_dir():
    argv = openrlhf_job.launch_command(grpo_config())
    assert option(argv, "--ckpt.output_dir") == "checkpoint"


def test_shipped_wheel_installs_from_no_index_and_repacks_from_a_regular_install(job: Path, tmp_path: Path):
    from inftool.train.openrlhf_job import PIP_OPTIONS, wheel_from_installed

    (wheel,) = job.glob("inftool-*.whl")
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--target", str(target), *PIP_OPTIONS, str(wheel)]
    subprocess.run(pip, check=True, capture_output=True)
    assert (target / "inftool" / "conf" / "recipe" / "quickstart.yaml").is_file()  # recipes ship (conf/recipe link)
    (dist,) = importlib.metadata.distributions(name="inftool", path=[str(target)])
    out = tmp_path / "repacked"
    out.mkdir()
    repacked = zipfile.ZipFile(wheel_from_installed(dist, out)).namelist()
    assert sorted(repacked) == sorted(zipfile.ZipFile(wheel).namelist())


def test_runtime_pip_takes_no_package_names():
    assert grpo_config(runtime_pip=["inftool"]).runtime_pip == ["inftool"]  # legacy recipes: the shipped wheel
    with pytest.raises(ValueError, match="only the inftool wheel"):
        grpo_config(runtime_pip=["inftool-helpers"])
