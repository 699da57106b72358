"""Finding, composing and pre-checking recipes before Hydra runs anything.

`precheck(argv)` composes the exact config Hydra is about to run (every sweep value too),
validates it, and checks every `_target_` against the allow-list. Hydra's own composition
errors (a key that does not exist, an unknown recipe) become one line naming the key and what
is allowed there. Only when all of that passes does the Hydra app start.
"""

from __future__ import annotations

import importlib.resources
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from inftool.config import InftoolConfig, to_container, validate
from inftool.errors import UserError
from inftool.safety import check_targets, user_allowed_targets

CONFIG_MODULE = "inftool.conf"
MAX_PRECHECKS = 32
_VALUE_FLAGS = {"-cp", "--config-path", "-cn", "--config-name", "-cd", "--config-dir", "-p", "--package",
                "-c", "--cfg", "--experimental-rerun"}  # fmt: skip


def conf_dir() -> Path:
    """The shipped conf/ folder (the checkout's in an editable install)."""
    return Path(str(importlib.resources.files(CONFIG_MODULE)))


@dataclass
class Invocation:
    """The command line split the way Hydra reads it."""

    overrides: list[str] = field(default_factory=list)
    config_dirs: list[Path] = field(default_factory=list)
    config_name: str = "config"
    multirun: bool = False


def parse_argv(argv: list[str]) -> Invocation:
    inv = Invocation()
    args = iter(argv)
    for arg in args:
        flag, eq, inline = arg.partition("=") if arg.startswith("-") else (arg, "", "")
        value = inline if eq else (next(args, "") if flag in _VALUE_FLAGS else "")
        if flag in ("-cd", "--config-dir"):
            inv.config_dirs.append(Path(value).expanduser().resolve())
        elif flag in ("-cn", "--config-name"):
            inv.config_name = value
        elif flag in ("-m", "--multirun"):
            inv.multirun = True
        elif not arg.startswith("-"):
            inv.overrides.append(arg)
    return inv


def recipe_dirs(config_dirs: list[Path]) -> list[Path]:
    """Folders holding recipes, the user's first."""
    return [d / "recipe" for d in config_dirs if (d / "recipe").is_dir()] + [conf_dir() / "recipe"]


def describe_recipe(path: Path) -> str:
    """The first header comment that is neither a Hydra directive nor the `Run:` line."""
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text.startswith("#"):
            break
        text = text.lstrip("#").strip()
        if text and not text.startswith("@") and not text.lower().startswith("run:"):
            return text
    return ""


def list_recipes(config_dirs: list[Path] = ()) -> dict[str, str]:  # type: ignore[assignment]
    recipes: dict[str, str] = {}
    for folder in reversed(recipe_dirs(list(config_dirs))):  # the user's recipes win on a name clash
        for path in sorted(folder.glob("*.yaml")):
            recipes[path.stem] = describe_recipe(path)
    return dict(sorted(recipes.items()))


def list_group_options(group: str) -> list[str]:
    return sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))


@contextmanager
def _hydra_context(config_dirs: list[Path]) -> Iterator[None]:
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def compose_config(
    overrides: list[str] = (),
    config_dirs: list[Path] = (),
    config_name: str = "config",  # type: ignore[assignment]
) -> DictConfig:
    """Compose like the Hydra app does (hydra node included); Hydra errors become UserErrors."""
    from hydra import compose

    overrides = list(overrides)
    if config_dirs and not any(o.startswith("hydra.searchpath=") for o in overrides):
        overrides.insert(0, "hydra.searchpath=[" + ",".join(f"file://{d}" for d in config_dirs) + "]")
    with _hydra_context(list(config_dirs)):
        try:
            return compose(config_name, overrides=overrides, return_hydra_config=True)
        except Exception as exc:  # Hydra raises many exception types for user mistakes
            error = exc
    raise UserError(_hydra_error_line(error, overrides, list(config_dirs), config_name))


def _hydra_error_line(exc: Exception, overrides: list[str], config_dirs: list[Path], config_name: str) -> str:
    message = f"{exc}\n{exc.__cause__ or ''}"
    missing_key = re.search(r"Could not override '([^']+)'", message)
    if missing_key and "not in struct" in message:
        key = missing_key.group(1)
        parent, _, _ = key.rpartition(".")
        # compose with only the group choices, so other typos cannot hide what is allowed here
        rest = [o for o in overrides if "@" in o.split("=")[0] or o.split("=")[0] in ("recipe", "hydra.searchpath")]
        try:
            base = compose_config(rest, config_dirs, config_name)
            node = OmegaConf.select(base, parent) if parent else base
            allowed = ", ".join(k for k in node if k != "hydra") if isinstance(node, DictConfig) else "?"
        except UserError:
            allowed = "?"
        return f"unknown config key '{key}' (allowed here: {allowed}); to add a new key on purpose use +{key}=..."
    missing_option = re.search(r"Could not find '([^']+)'", message)
    if missing_option:
        group, _, option = missing_option.group(1).rpartition("/")
        options = getattr(exc, "options", None)
        if group == "recipe":
            available = ", ".join(list_recipes(config_dirs))
            return f"unknown recipe '{option}' (available: {available}); add your own with --config-dir DIR"
        listed = ", ".join(options) if options else ", ".join(list_group_options(group)) or "none"
        return f"unknown option '{option}' for config group '{group or missing_option.group(1)}' (available: {listed})"
    first = next((line.strip() for line in message.splitlines() if line.strip()), type(exc).__name__)
    return f"cannot compose the config: {first}"


def expand_sweeps(overrides: list[str]) -> list[list[str]]:
    """Override lists to check: the first value of every sweep, then each other value of each sweep."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as exc:
        raise UserError(f"cannot parse overrides: {str(exc).splitlines()[0]}") from None
    choices = [
        [f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()] if o.is_sweep_override() else [o.input_line]
        for o in parsed
    ]
    firsts = [c[0] for c in choices]
    runs = [firsts]
    for i, options in enumerate(choices):
        runs += [[*firsts[:i], value, *firsts[i + 1 :]] for value in options[1:]]
    return list(itertools.islice(runs, MAX_PRECHECKS))


def extra_allowed_targets(overrides: list[str]) -> list[str]:
    """`safety.allow_targets` may only be widened from the command line or the user's own file."""
    allowed = user_allowed_targets()
    for override in overrides:
        key, _, value = override.partition("=")
        if key.lstrip("+~") == "safety.allow_targets":
            allowed += [v.strip().strip("'\"") for v in value.strip("[]").split(",") if v.strip()]
    return allowed


def check_config(cfg: DictConfig, cli_allowed: list[str]) -> InftoolConfig:
    """Validate one composed config and refuse unsafe targets in it (the hydra node too)."""
    container = to_container(cfg)
    recipe_allowed = set(container.get("safety", {}).get("allow_targets") or []) - set(cli_allowed)
    if recipe_allowed:
        raise UserError(
            f"refusing to run: the recipe widens safety.allow_targets with {sorted(recipe_allowed)}; "
            "only the command line or your own allowed_targets file may do that"
        )
    # every target is checked before validation, which imports the (allowed) agent classes
    check_targets(container, cli_allowed)
    hydra_node = OmegaConf.to_container(cfg.hydra, resolve=False) if "hydra" in cfg else {}
    check_targets({"hydra": hydra_node}, cli_allowed)
    return validate(container)


def precheck(argv: list[str]) -> Invocation:
    """Everything that can be wrong with the command line, found before anything runs."""
    inv = parse_argv(argv)
    cli_allowed = extra_allowed_targets(inv.overrides)
    runs = expand_sweeps(inv.overrides) if inv.multirun else [inv.overrides]
    for overrides in runs:
        check_config(compose_config(overrides, inv.config_dirs, inv.config_name), cli_allowed)
    return inv
