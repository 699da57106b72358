"""engine=ray on a real local Ray runtime (one per module; the command-line runs join it through
RAY_ADDRESS): 1 or 2 workers store the same scenario ids; a worker or the driver killed mid-round
loses only unfinished episodes, which a fresh worker or a rerun synthesizes, none twice and none
lost; a worker refuses a config the trust model refuses before it builds anything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from inftool.config import InftoolConfig, validate
from inftool.errors import UserError
from inftool.lm import build_lms
from inftool.lm.loopback import LoopbackServer, free_port
from inftool.loop import RoundInputs, ingest, round_scenarios, synthesize_round
from inftool.loop.shards import ray_module, remote_worker, run_sharded, split, worker_job, worker_lms
from inftool.recipes import compose_config
from inftool.scenarios import Scenario

EPISODES = 24


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local Ray runtime kept small; yields its address for the command-line runs."""
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 1024**2, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    server = LoopbackServer(schema_replies=True, record=False, delay=0.03).start()
    yield server
    server.stop()


def roles(url: str) -> list[str]:
    return [o for r in ("user", "assistant", "tools", "judge")
            for o in (f"lm@lm.{r}=openai", f"lm.{r}.model=loop", f"lm.{r}.base_url={url}")]  # fmt: skip


def config_for(url: str, *overrides: str) -> InftoolConfig:
    return validate(compose_config([*roles(url), "synthesis.concurrency=2", *overrides]))


def scenarios_for(config: InftoolConfig) -> list[Scenario]:
    inputs = RoundInputs(config.lm.assistant, config.trainer, config.scenarios.weights)
    return round_scenarios(config, ingest(config, []), 0, inputs)


def stored_ids(data: Path) -> list[str]:
    ids = []
    for shard in sorted(data.glob("*ed-*.jsonl")):
        ids += [json.loads(line)["trajectory"]["id"] for line in shard.read_text().splitlines() if line.strip()]
    return ids


def manifest_ids(data: Path) -> list[str]:
    return [json.loads(line)["id"] for line in (data / "manifest.jsonl").read_text().splitlines()]


def test_one_or_two_workers_store_the_same_ids(cluster: str, server: LoopbackServer, tmp_path: Path):
    stores = {}
    for engine in ("engine=local", "engine=ray engine.workers=1", "engine=ray engine.workers=2"):
        config = config_for(server.url, "synthesis.episodes=16", "seed=3", *engine.split())
        scenarios = scenarios_for(config)
        data = tmp_path / engine.replace(" ", "_") / "data"
        synthesize_round(config, scenarios, build_lms(config.lm), data.parent)
        stores[engine] = stored_ids(data)
        assert sorted(manifest_ids(data)) == sorted(stores[engine])
    local, one, two = stores.values()
    assert len(two) == len(set(two)) == 16
    assert sorted(one) == sorted(two) == sorted(local) == sorted(s.id for s in scenarios)


def test_shards_partition_the_ids_and_workers_spread_over_a_fleet(monkeypatch: pytest.MonkeyPatch):
    ids = [f"s0-{i}" for i in range(11)]
    scenarios = [Scenario(id=i, kind="single", toolset="t", domain="d", offered=[], targets=[]) for i in ids]
    for workers in (1, 2, 3, 16):
        parts = split(scenarios, workers)
        assert sorted(s.id for part in parts for s in part) == sorted(ids) and len(parts) == min(workers, 11)
    fleet = ["http://a/v1", "http://b/v1", "http://c/v1"]
    monkeypatch.setenv("FLEET_KEY", "sk-driver")
    overrides = f"lm.assistant.base_url=[{','.join(fleet)}]", "lm.assistant.api_key_env=FLEET_KEY"
    lm = config_for("http://x/v1", *overrides).lm
    assert [worker_lms(lm, i).assistant.base_url[0] for i in range(4)] == [*fleet, fleet[0]]
    assert worker_lms(lm, 1).user.base_url == "http://x/v1"
    assert worker_lms(lm, 0).assistant.api_key.get_secret_value() == "sk-driver"  # the worker may lack the env var


def test_worker_refuses_a_smuggled_target_before_building_it(cluster: str, server: LoopbackServer, tmp_path: Path):
    config = config_for(server.url, "synthesis.episodes=2", "engine=ray", "engine.workers=1")
    scenarios = scenarios_for(config)
    marker = tmp_path / "opened"
    job = worker_job(config, 0, scenarios)
    job.config["agents"]["user"] = {"_target_": "builtins.open", "file": str(marker), "mode": "w"}
    job.config["safety"]["allow_targets"] = ["builtins.open"]  # the config's own list widens nothing
    worker = remote_worker().remote()
    with pytest.raises(UserError, match=r"refusing to run: 'agents\.user\._target_: builtins\.open'"):
        ray.get(worker.start.remote(job))
    ray.kill(worker)
    assert not marker.exists()

    # Smuggled into the driver's config after validation: the worker refuses it, one line here.
    hostile = config.agents.user.model_copy(update={"target": "builtins.open"})
    smuggled = config.model_copy(update={"agents": config.agents.model_copy(update={"user": hostile})})
    with pytest.raises(UserError, match=r"^engine=ray worker 0: refusing to run: 'agents.user._target_"):
        run_sharded(smuggled, scenarios, lambda traj: None, progress=False)


def cli(run_dir: Path, url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "inftool", f"hydra.run.dir={run_dir}", f"synthesis.episodes={EPISODES}",
            "synthesis.concurrency=2", "loop.stages=[synthesize]", "engine=ray", "engine.workers=2", *roles(url),
            *extra]  # fmt: skip


def start(run_dir: Path, url: str, address: str, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "RAY_ADDRESS": address}
    return subprocess.Popen(cli(run_dir, url, *extra), cwd=run_dir.parent, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def wait_for_stored(data: Path, at_least: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if data.exists() and len(stored_ids(data)) >= at_least:
            return
        time.sleep(0.05)
    raise AssertionError(f"the round never stored {at_least} episodes: {proc.poll()=}")


def shard_workers() -> list[dict[str, str]]:
    return [a for a in ray.util.list_named_actors(all_namespaces=True) if a["name"].startswith("inftool-shard-")]


def kill_one_worker() -> str:
    names = shard_workers()
    assert names, "the round's workers are named actors"
    ray.kill(ray.get_actor(names[0]["name"], namespace=names[0]["namespace"]))
    return names[0]["name"]


def rerun_completes(run_dir: Path, url: str, address: str, before: list[str]) -> None:
    rerun = start(run_dir, url, address)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err[-2000:]
    data = run_dir / "round_0" / "data"
    assert f"already in {data}" in out
    after = stored_ids(data)
    assert len(after) == len(set(after)) == EPISODES  # none twice, none lost
    assert set(before) <= set(after) and sorted(manifest_ids(data)) == sorted(after)


def test_killed_worker_stops_the_round_in_one_line_and_a_rerun_resumes(cluster: str, server: LoopbackServer,
                                                                       tmp_path: Path):  # fmt: skip
    run_dir = tmp_path / "run"
    data = run_dir / "round_0" / "data"
    proc = start(run_dir, server.url, cluster, "engine.retries=0")
    wait_for_stored(data, 4, proc)
    kill_one_worker()
    _, err = proc.communicate(timeout=300)
    before = stored_ids(data)
    assert proc.returncode == 2, err[-2000:]
    assert 4 <= len(before) < EPISODES and len(before) == len(set(before)), "the kill must land mid-round"
    last = err.splitlines()[-1]  # above it: the progress bar and Ray's own log lines
    assert "Traceback" not in err and last.startswith("inftool: error: engine=ray: 1 worker(s) stopped (worker ")
    assert "rerun the same command to resume them" in last
    rerun_completes(run_dir, server.url, cluster, before)


def test_killed_worker_is_replaced_and_the_round_finishes(cluster: str, server: LoopbackServer, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]):  # fmt: skip
    config = config_for(server.url, f"synthesis.episodes={EPISODES}", "engine=ray", "engine.workers=2",
                        "engine.retries=1")  # fmt: skip
    scenarios, data = scenarios_for(config), tmp_path / "data"
    errors: list[BaseException] = []

    def synthesize() -> None:
        try:
            synthesize_round(config, scenarios, build_lms(config.lm), tmp_path)
        except BaseException as exc:
            errors.append(exc)

    driver = threading.Thread(target=synthesize)
    driver.start()
    deadline = time.time() + 120
    while time.time() < deadline and driver.is_alive() and not (data.exists() and len(stored_ids(data)) >= 4):
        time.sleep(0.05)
    kill_one_worker()
    driver.join(300)
    assert not errors and not driver.is_alive(), errors
    assert "go to a fresh worker (retry 1 of 1)" in capsys.readouterr().out
    stored = stored_ids(data)
    assert len(stored) == len(set(stored)) == EPISODES and sorted(manifest_ids(data)) == sorted(stored)


def test_killed_driver_then_rerun_resumes(cluster: str, server: LoopbackServer, tmp_path: Path):
    run_dir = tmp_path / "run"
    data = run_dir / "round_0" / "data"
    proc = start(run_dir, server.url, cluster)
    wait_for_stored(data, 4, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    before = stored_ids(data)
    assert 4 <= len(before) < EPISODES, "the kill must land mid-round"
    deadline = time.time() + 60
    while time.time() < deadline and shard_workers():
        time.sleep(0.2)
    assert not shard_workers(), "the driver's workers die with it (Ray's owner rule): none keeps running"
    rerun_completes(run_dir, server.url, cluster, before)


def test_unreachable_ray_address_is_one_line(server: LoopbackServer, tmp_path: Path):
    run_dir = tmp_path / "run"
    proc = start(run_dir, server.url, f"127.0.0.1:{free_port()}")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2 and err.count("\n") == 1, err[-2000:]
    assert "nothing answers at RAY_ADDRESS=127.0.0.1:" in err and "ray start --head" in err


def test_engine_ray_without_ray_installed_is_one_line(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets where it is not installed
    with pytest.raises(UserError, match=r"engine=ray needs Ray, which is not installed: pip install 'inftool\[ray\]'"):
        ray_module()


def test_engine_settings_are_checked_and_ray_settings_need_engine_ray():
    with pytest.raises(UserError, match=r"engine\.workers"):
        validate(compose_config(["engine=ray", "engine.workers=0"]))
    with pytest.raises(UserError, match=r"unknown config key 'engine\.worker'"):
        validate(compose_config(["engine=ray", "+engine.worker=3"]))
    with pytest.raises(UserError, match=r"^config key 'engine': workers: settings of engine=ray; add engine=ray"):
        validate(compose_config(["engine.workers=8"]))  # not silently local
    assert validate(compose_config([])).engine.kind == "local"
