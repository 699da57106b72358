"""The trust model: a recipe is data.

A recipe is a file a team receives from another team; running it must never run its author's code.

1. A recipe sets values of inftool's own keys and picks inftool's components by exact qualified
   name (`COMPONENTS`): every `_target_` (and every `()` factory) at any depth of the resolved
   config must be one of them, or an exact name the user allowed on the command line or in their
   own file. The name is resolved and checked as the object it names.
2. Only the command line or the user's own config may set what runs around a job: Hydra's whole
   `hydra` node (callbacks, logging, env_set, launcher, sweeper, mode, run dirs), extra target
   names, starting an external MCP command (`safety.allow_mcp_command=true`), and the saved
   results `eval.rescore` reads.
3. Nothing from a recipe is unpickled (programs load as JSON), and every value written into a
   generated script is quoted.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from inftool.errors import UserError

# The components a recipe may build, by exact name: the agents, the gates, the DSPy optimizers.
COMPONENTS = frozenset({
    "inftool.agents.UserSimulator", "inftool.agents.Assistant", "inftool.agents.ToolServer",
    "inftool.gates.FormatGate", "inftool.gates.SchemaGate", "inftool.gates.ExecutionGate",
    "inftool.gates.ConsistencyGate", "inftool.gates.JudgeGate", "inftool.gates.DedupGate", "inftool.gates.PlanGate",
    "dspy.BootstrapFewShot", "dspy.GEPA", "dspy.MIPROv2",
})  # fmt: skip
CLI_ONLY_FILES = ("eval.rescore",)  # files a run reads that only the command line may name
TARGET_KEYS = ("_target_", "()")  # Hydra's instantiate; logging.config.dictConfig's factory key
USER_ALLOW_FILE = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "inftool" / "allowed_targets.txt"


def user_allowed_targets() -> list[str]:
    """Exact target names the user allowed in their own file, one per line (`#` comments)."""
    if not USER_ALLOW_FILE.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in USER_ALLOW_FILE.read_text().splitlines())
    return [line for line in lines if line]


def iter_targets(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (dotted key, target) for every `_target_` or `()` in a plain container."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            if key in TARGET_KEYS:
                yield child, value
            if not isinstance(value, str):
                yield from iter_targets(value, child)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from iter_targets(value, f"{path}[{index}]")


def _resolves_to_component(target: str) -> bool:
    """An allowed name must import as a class defined in inftool or dspy (never a module attribute
    that points elsewhere, such as a stdlib function)."""
    from hydra._internal.utils import _locate

    try:
        obj = _locate(target)
    except Exception:
        return False
    return inspect.isclass(obj) and obj.__module__.split(".")[0] == target.split(".")[0]


def check_targets(config: dict[str, Any], extra_allowed: Iterable[str] = ()) -> None:
    """Refuse the run if any `_target_`/`()` anywhere is not an allowed component."""
    extra = set(extra_allowed)
    for where, target in iter_targets(config):
        name = target if isinstance(target, str) else repr(target)
        if name in extra:  # the user's own choice, from the command line or their own file
            continue
        if name not in COMPONENTS or not _resolves_to_component(name):
            raise UserError(
                f"refusing to run: '{where}: {name[:120]}' is not one of inftool's components "
                f"(the allow-list: {', '.join(sorted(COMPONENTS))}); if you trust it, pass "
                f"safety.allow_targets=[{name[:120]}] on the command line or add it to {USER_ALLOW_FILE}"
            )


def hydra_differences(composed: Any, baseline: Any, path: str = "hydra") -> Iterator[str]:
    """Keys of the `hydra` node whose value differs between two compositions (Hydra's own
    bookkeeping of the overrides and choices excluded)."""
    if path in ("hydra.overrides", "hydra.runtime", "hydra.job.override_dirname"):
        return
    if isinstance(composed, dict) and isinstance(baseline, dict):
        for key in dict.fromkeys([*composed, *baseline]):
            yield from hydra_differences(composed.get(key), baseline.get(key), f"{path}.{key}")
    elif composed != baseline:
        yield path


def is_hydra_override(override: str) -> bool:
    key = override.partition("=")[0].lstrip("+~")
    return key == "hydra" or key.startswith(("hydra.", "hydra/"))


def cli_sets(overrides: Iterable[str], key: str) -> str | None:
    """The value the command line gives `key` (any `+`/`++` form), or None."""
    for override in overrides:
        name, sep, value = override.partition("=")
        if sep and name.lstrip("+~") == key:
            return value
    return None


def check_cli_only_keys(config: dict[str, Any], cli_overrides: list[str], cli_allowed: list[str]) -> None:
    """`safety.*` can only be widened from the command line; an external MCP command runs only
    when the command line gave it or allowed it (`safety.allow_mcp_command=true`)."""
    safety = config.get("safety") or {}
    recipe_allowed = set(safety.get("allow_targets") or []) - set(cli_allowed)
    if recipe_allowed:
        raise UserError(
            f"refusing to run: the recipe widens safety.allow_targets with {sorted(recipe_allowed)}; "
            "only the command line or your own allowed_targets file may do that"
        )
    for key in CLI_ONLY_FILES:
        section, _, name = key.partition(".")
        if (config.get(section) or {}).get(name) and cli_sets(cli_overrides, key) is None:
            raise UserError(f"refusing to run: the recipe sets {key} (a file to read); give it on the command line")
    cli_opt_in = str(cli_sets(cli_overrides, "safety.allow_mcp_command")).lower() in ("true", "1", "yes")
    if safety.get("allow_mcp_command") and not cli_opt_in:
        raise UserError("refusing to run: the recipe sets safety.allow_mcp_command; only the command line may")
    for name, toolset in (config.get("toolsets") or {}).items():
        command = (toolset or {}).get("mcp_command")
        given_on_cli = cli_sets(cli_overrides, f"toolsets.{name}.mcp_command") is not None
        if command and not (given_on_cli or cli_opt_in):
            raise UserError(
                f"refusing to run: toolsets.{name}.mcp_command would start the command {command!r} from the recipe; "
                "if you trust it, add safety.allow_mcp_command=true on the command line"
            )
