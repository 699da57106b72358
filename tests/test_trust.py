"""The trust model: a shared recipe is data. Each test is one way a hostile recipe tried to run
code (issue 14); each asserts that the marker file the payload would create never appears."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from inftool.errors import UserError
from inftool.recipes import precheck


def write_recipe(tmp_path: Path, body: str, name: str = "evil") -> list[str]:
    folder = tmp_path / "team_conf" / "recipe"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(f"# @package _global_\n# Run: inftool recipe={name}\n# a recipe\n{body}")
    return ["--config-dir", str(tmp_path / "team_conf"), f"recipe={name}"]


def refused(result, marker: Path, *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(w in result.stderr for w in words), result.stderr
    assert not marker.exists()


def test_target_through_a_module_attribute_is_refused(inftool_cli, tmp_path: Path):
    """`inftool.safety.os.system` starts with `inftool.` but names os.system."""
    marker = tmp_path / "pwned"
    body = f"agents:\n  tools:\n    _target_: inftool.safety.os.system\n    command: touch {marker}\n"
    args = write_recipe(tmp_path, body)
    refused(inftool_cli(*args, "hydra.run.dir=run"), marker, "inftool.safety.os.system", "not one of")


def test_target_nested_in_arguments_is_refused(inftool_cli, tmp_path: Path):
    marker = tmp_path / "pwned"
    body = (
        "gates:\n  chain:\n    - _target_: inftool.gates.FormatGate\n"
        "    - _target_: inftool.gates.DedupGate\n      threshold:\n"
        "        _target_: inftool.loop.toolsets.shlex.os.system\n"
        f"        command: touch {marker}\n"
    )
    gadget = "inftool.loop.toolsets.shlex.os.system"
    refused(inftool_cli(*write_recipe(tmp_path, body), "hydra.run.dir=run"), marker, gadget)


def test_recipe_cannot_set_hydra_callbacks_even_in_ingest_mode(inftool_cli, tmp_path: Path):
    marker = tmp_path / "pwned"
    body = f"hydra:\n  callbacks:\n    boom:\n      _target_: inftool.safety.os.system\n      command: touch {marker}\n"
    refused(inftool_cli(*write_recipe(tmp_path, body), "mode=ingest"), marker, "hydra.callbacks")


def test_env_set_cannot_smuggle_a_config_past_the_check(inftool_cli, tmp_path: Path):
    marker = tmp_path / "pwned"
    body = (
        f"hydra:\n  job:\n    env_set:\n      EVIL: '{{_target_: os.system, command: touch {marker}}}'\n"
        "agents:\n  tools: \"${oc.decode:${oc.env:EVIL,'{_target_: inftool.agents.ToolServer}'}}\"\n"
    )
    refused(inftool_cli(*write_recipe(tmp_path, body), "mode=ingest"), marker, "hydra.job.env_set")


def test_the_job_checks_again_after_hydra_applied_everything(inftool_cli, tmp_path: Path):
    """env_set given on the command line (allowed there) feeds the recipe's decode: the pre-check
    sees the safe default, the job sees the payload and refuses it before building anything."""
    marker = tmp_path / "pwned"
    body = "agents:\n  tools: \"${oc.decode:${oc.env:EVIL,'{_target_: inftool.agents.ToolServer}'}}\"\n"
    payload = f"{{_target_: os.system, command: 'touch {marker}'}}"
    result = inftool_cli(*write_recipe(tmp_path, body), "mode=run", f"++hydra.job.env_set.EVIL=\"{payload}\"",
                         "hydra.run.dir=run")  # fmt: skip
    assert result.returncode == 2 and "os.system" in result.stderr, result.stdout + result.stderr
    assert not marker.exists()


def test_recipe_cannot_turn_itself_into_a_sweep(inftool_cli, tmp_path: Path):
    marker = tmp_path / "pwned"
    body = (
        "hydra:\n  mode: MULTIRUN\n  sweeper:\n    params:\n"
        "      agents.tools._target_: inftool.agents.ToolServer,os.system\n"
        f"      +agents.tools.command: touch {marker}\n"
    )
    refused(inftool_cli(*write_recipe(tmp_path, body), "mode=ingest"), marker, "hydra.")


def test_recipe_cannot_configure_logging_factories(inftool_cli, tmp_path: Path):
    marker = tmp_path / "pwned"
    body = (
        "hydra:\n  job_logging:\n    version: 1\n    formatters:\n      f:\n        '()': os.system\n"
        f"        command: touch {marker}\n    root: {{level: INFO}}\n"
    )
    refused(inftool_cli(*write_recipe(tmp_path, body), "mode=ingest"), marker, "hydra.job_logging")


def test_no_pickle_from_a_recipe(inftool_cli, tmp_path: Path):
    import pickle

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    program = tmp_path / "team_conf" / "recipe" / "evil.tools.pkl"
    program.parent.mkdir(parents=True)
    program.write_bytes(pickle.dumps(Payload()))
    body = f"agents:\n  tools:\n    _target_: inftool.agents.ToolServer\n    program: {program}\n"
    args = write_recipe(tmp_path, body)
    refused(inftool_cli(*args, "mode=ingest"), marker, "agents.tools.program", ".json")
    loader_body = f"optimize:\n  optimizer: {{_target_: dspy.load, path: {program.parent}}}\n"
    loader = write_recipe(tmp_path, loader_body, "evil2")
    refused(inftool_cli(*loader, "mode=ingest"), marker, "dspy.load")


def test_mcp_command_from_a_recipe_needs_a_command_line_opt_in(inftool_cli, tmp_path: Path):
    marker = tmp_path / "pwned"
    body = f"toolsets:\n  calc:\n    mcp_command: [sh, -c, 'touch {marker}']\n"
    args = write_recipe(tmp_path, body)
    refused(inftool_cli(*args, "mode=ingest"), marker, "toolsets.calc.mcp_command", "safety.allow_mcp_command=true")
    sneaky = write_recipe(tmp_path, body + "safety:\n  allow_mcp_command: true\n", "evil2")
    refused(inftool_cli(*sneaky, "mode=ingest"), marker, "safety.allow_mcp_command")
    allowed = inftool_cli(*args, "mode=ingest", "safety.allow_mcp_command=true", "hydra.run.dir=run")
    assert f"starting the external MCP server: sh -c 'touch {marker}'" in allowed.stdout  # printed before it runs
    assert marker.exists()  # the user allowed it on the command line


def test_recipe_cannot_pick_a_file_to_rescore(inftool_cli, tmp_path: Path):
    saved = tmp_path / "bfcl.jsonl"
    saved.write_text("")
    result = inftool_cli(*write_recipe(tmp_path, f"eval:\n  rescore: {saved}\n"), "mode=eval")
    assert result.returncode == 2 and "eval.rescore" in result.stderr and "command line" in result.stderr


# Known gadgets: stdlib functions that run a command or code, reached directly or through a module
# attribute of an allowed package; each with arguments that would create the marker.
GADGETS = {
    "os.system": lambda m: {"command": f"touch {m}"},
    "posix.system": lambda m: {"command": f"touch {m}"},
    "subprocess.run": lambda m: {"args": ["touch", str(m)]},
    "subprocess.Popen": lambda m: {"args": ["touch", str(m)]},
    "subprocess.check_output": lambda m: {"args": ["touch", str(m)]},
    "uuid._get_command_stdout": lambda m: {"_args_": ["touch", str(m)]},
    "ensurepip._run_pip": lambda m: {"_args_": [["--version"]]},
    "builtins.exec": lambda m: {"_args_": [f"open('{m}', 'w')"]},
    "builtins.eval": lambda m: {"_args_": [f"open('{m}', 'w')"]},
    "runpy.run_path": lambda m: {"_args_": [str(m)]},
    "pty.spawn": lambda m: {"_args_": [["touch", str(m)]]},
    "dspy.load": lambda m: {"path": str(m)},
    "inftool.safety.os.system": lambda m: {"command": f"touch {m}"},
    "inftool.loop.toolsets.shlex.os.system": lambda m: {"command": f"touch {m}"},
    "inftool.agents.UserSimulator.__init__.__globals__.os.system": lambda m: {"command": f"touch {m}"},
    "hydra.utils.instantiate": lambda m: {"config": {"_target_": "os.system", "command": f"touch {m}"}},
}
PLACES = [
    "agents.user", "agents.tools.helper", "gates.chain.1.inner", "optimize.optimizer",
    "optimize.optimizer.metric.deep", "lm.judge.extra", "hydra.callbacks.cb",
]  # fmt: skip


def _yaml_at(place: str, node: dict) -> str:
    import yaml

    parts = place.split(".")
    tree: dict = {}
    cursor = tree
    for part in parts[:-1]:
        cursor = cursor.setdefault(part, {})
    cursor[parts[-1]] = node
    if parts[0] == "gates":  # a list: keep the stock chain around the hostile element
        tree = {"gates": {"chain": [{"_target_": "inftool.gates.FormatGate"},
                                    {"_target_": "inftool.gates.SchemaGate", "inner": node}]}}  # fmt: skip
    return yaml.safe_dump(tree)


@pytest.mark.parametrize("case", range(24))
def test_generated_hostile_recipes_are_refused(tmp_path: Path, monkeypatch, case: int):
    rng = random.Random(case)
    target = rng.choice(sorted(GADGETS))
    place = rng.choice(PLACES)
    key = rng.choice(["_target_", "()"])
    marker = tmp_path / "pwned"
    node = {key: target, **GADGETS[target](marker)}
    monkeypatch.chdir(tmp_path)
    args = write_recipe(tmp_path, _yaml_at(place, node))
    with pytest.raises(UserError, match=r"refusing to run|not one of|cannot import"):
        precheck([*args, "mode=ingest"])
    assert not marker.exists()


def test_allow_list_holds_every_shipped_target_and_only_classes():
    import yaml

    from inftool.recipes import conf_dir
    from inftool.safety import COMPONENTS, _resolves_to_component, iter_targets

    shipped = {t for p in conf_dir().rglob("*.yaml") if "specs" not in p.parts
               for _, t in iter_targets(yaml.safe_load(p.read_text()) or {})}  # fmt: skip
    assert shipped and shipped <= COMPONENTS
    assert all(_resolves_to_component(name) for name in COMPONENTS)
    assert not _resolves_to_component("inftool.safety.os.system")
