"""Finding, composing and pre-checking recipes before Hydra runs anything.

`precheck(argv)` composes the exact config Hydra is about to run (every value of every sweep),
validates it and enforces the trust model of `inftool.safety` on it: every `_target_` is an
allowed component, the recipe leaves Hydra's node alone, command-line-only keys come from the
command line. A documented key the composed config lacks (`toolsets.NAME.path`,
`agents.tools.program`) is added as `++key=value`, as the user meant; Hydra's own composition
errors (a key that does not exist, an unknown recipe, a YAML error) become one line naming the
key or file:line. Only when all of that passes does the Hydra app start.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from inftool.config import InftoolConfig, to_container, validate
from inftool.errors import UserError
from inftool.redaction import collect_secrets, secrets_in_overrides
from inftool.safety import (
    check_cli_only_keys,
    check_targets,
    hydra_differences,
    is_hydra_override,
    user_allowed_targets,
)
from inftool.schema import allowed_keys, schema_allows

CONFIG_MODULE = "inftool.conf"
RECIPE_HEADER = "# @package _global_"
_VALUE_FLAGS = {"-cp", "--config-path", "-cn", "--config-name", "-cd", "--config-dir", "-p", "--package",
                "-c", "--cfg", "--experimental-rerun"}  # fmt: skip


def conf_dir() -> Path:
    """The shipped conf/ folder (the checkout's in an editable install)."""
    return Path(str(importlib.resources.files(CONFIG_MODULE)))


@dataclass
class Invocation:
    """The command line split the way Hydra reads it."""

    overrides: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # everything else on the command line, in order
    config_dirs: list[Path] = field(default_factory=list)
    config_name: str = "config"
    multirun: bool = False
    added_keys: set[str] = field(default_factory=set)  # documented keys the config lacks: passed as ++key
    secrets: set[str] = field(default_factory=set)

    def hydra_overrides(self) -> list[str]:
        """The overrides as Hydra must receive them: added keys as `++key=...`, and the keys that
        carry a secret left out of `${hydra.job.override_dirname}` (run-dir names)."""
        overrides = [_with_prefix(o, self.added_keys) for o in self.overrides]
        hidden = sorted({o.partition("=")[0].lstrip("+~") for o in self.overrides
                         if secrets_in_overrides([o]) or any(s in o for s in self.secrets)})  # fmt: skip
        if hidden:
            key = "hydra.job.config.override_dirname.exclude_keys"
            given = [o for o in overrides if o.partition("=")[0].lstrip("+~") == key]
            keep = [v.strip() for o in given for v in o.partition("=")[2].strip("[]").split(",") if v.strip()]
            overrides = [o for o in overrides if o not in given] + [f"{key}=[{','.join([*keep, *hidden])}]"]
        return overrides


def _with_prefix(override: str, added_keys: set[str]) -> str:
    key = override.partition("=")[0]
    return f"++{override}" if key in added_keys else override


def parse_argv(argv: list[str]) -> Invocation:
    inv = Invocation()
    args = iter(argv)
    for arg in args:
        inv.flags.append(arg)
        flag, eq, inline = arg.partition("=") if arg.startswith("-") else (arg, "", "")
        value = inline if eq else (next(args, "") if flag in _VALUE_FLAGS else "")
        if flag in ("-cd", "--config-dir"):
            inv.config_dirs.append(Path(value).expanduser().resolve())
        elif flag in ("-cn", "--config-name"):
            inv.config_name = value
        elif flag in ("-m", "--multirun"):
            inv.multirun = True
        elif not arg.startswith("-"):
            inv.flags.pop()
            inv.overrides.append(arg)
        if flag in _VALUE_FLAGS and not eq:
            inv.flags.append(value)
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


def _compose(overrides: list[str], config_dirs: list[Path], config_name: str) -> DictConfig:
    from hydra import compose

    if config_dirs and not any(o.startswith("hydra.searchpath=") for o in overrides):
        overrides = ["hydra.searchpath=[" + ",".join(f"file://{d}" for d in config_dirs) + "]", *overrides]
    with _hydra_context(config_dirs):
        return compose(config_name, overrides=overrides, return_hydra_config=True)


def _struct_key(exc: Exception) -> str | None:
    """The key of a `Could not override 'KEY' ... not in struct` composition error."""
    message = f"{exc}\n{exc.__cause__ or ''}"
    match = re.search(r"Could not override '([^']+)'", message)
    return match.group(1) if match and "not in struct" in message else None


def compose_config(
    overrides: list[str] = (),  # type: ignore[assignment]
    config_dirs: list[Path] = (),  # type: ignore[assignment]
    config_name: str = "config",
    added_keys: set[str] | None = None,
) -> DictConfig:
    """Compose like the Hydra app does (hydra node included). A key our schema documents but the
    composed config lacks is added (`++key`) and recorded in `added_keys`; Hydra errors become
    UserErrors."""
    added = set() if added_keys is None else added_keys
    for _ in range(len(overrides) + 1):
        current = [_with_prefix(o, added) for o in overrides]
        try:
            return _compose(current, list(config_dirs), config_name)
        except Exception as exc:  # Hydra raises many exception types for user mistakes
            error = exc
        key = _struct_key(error)
        if key is None or key in added or not schema_allows(key) or key.startswith("hydra."):
            break
        added.add(key)
    raise UserError(_hydra_error_line(error, list(config_dirs), config_name))


def _hydra_error_line(exc: Exception, config_dirs: list[Path], config_name: str) -> str:
    message = f"{exc}\n{exc.__cause__ or ''}"
    key = _struct_key(exc)
    if key:
        parent = key.rpartition(".")[0]
        allowed = ", ".join(allowed_keys(parent)) or "no keys"
        return f"unknown config key '{key}' (allowed here: {allowed})"
    missing_option = re.search(r"Could not find '([^']+)'", message)
    if missing_option:
        group, _, option = missing_option.group(1).rpartition("/")
        options = getattr(exc, "options", None)
        if group == "recipe":
            available = ", ".join(list_recipes(config_dirs))
            return f"unknown recipe '{option}' (available: {available}); add your own with --config-dir DIR"
        listed = ", ".join(options) if options else ", ".join(list_group_options(group)) or "none"
        return f"unknown option '{option}' for config group '{group or missing_option.group(1)}' (available: {listed})"
    if "yaml" in type(exc).__module__ + type(exc.__cause__).__module__ or "while scanning" in message:
        broken = first_yaml_error([*config_dirs, conf_dir()])
        if broken:
            return broken
    first = next((line.strip() for line in message.splitlines() if line.strip()), type(exc).__name__)
    return f"cannot compose the config: {first}"


def yaml_error_line(path: Path) -> str | None:
    """`FILE:LINE:COL: invalid YAML (problem)` for a file that does not parse, else None."""
    try:
        yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        return f"{path}{where}: invalid YAML ({getattr(exc, 'problem', None) or type(exc).__name__})"
    except (OSError, UnicodeDecodeError) as exc:
        return f"{path}: cannot read ({exc})"
    return None


def first_yaml_error(folders: list[Path]) -> str | None:
    for folder in folders:
        for path in sorted(folder.rglob("*.yaml")) if folder.is_dir() else []:
            if "specs" not in path.relative_to(folder).parts and (line := yaml_error_line(path)):
                return line
    return None


def chosen_recipes(runs: list[list[str]], config_dirs: list[Path], config_name: str) -> set[str]:
    """The recipe each run selects (`recipe=NAME` on the command line, else the primary config's default)."""
    names = set()
    for overrides in runs:
        given = [o.partition("=")[2] for o in overrides if o.partition("=")[0] == "recipe"]
        names.add(given[-1] if given else _default_recipe(config_dirs, config_name))
    return {n for n in names if n and n != "null"}


def _default_recipe(config_dirs: list[Path], config_name: str) -> str | None:
    for folder in [*config_dirs, conf_dir()]:
        path = folder / f"{config_name}.yaml"
        if path.is_file():
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for entry in document.get("defaults", []) if isinstance(document, dict) else []:
                if isinstance(entry, dict) and "recipe" in entry:
                    return str(entry["recipe"])
            return None
    return None


def check_recipe_file(name: str, config_dirs: list[Path]) -> None:
    """An empty, header-less or unparsable recipe is one line naming the file (and line)."""
    path = next((d / f"{name}.yaml" for d in recipe_dirs(config_dirs) if (d / f"{name}.yaml").is_file()), None)
    if path is None:
        return  # composition reports an unknown recipe with the list of known ones
    broken = yaml_error_line(path)
    if broken:
        raise UserError(broken)
    text = path.read_text(encoding="utf-8")
    if yaml.safe_load(text) is None:
        raise UserError(f"recipe '{name}' ({path}) is empty; a recipe starts with '{RECIPE_HEADER}' and sets keys")
    if RECIPE_HEADER not in text.splitlines()[:5]:
        raise UserError(
            f"recipe '{name}' ({path}) lacks the '{RECIPE_HEADER}' header line; without it its keys would "
            f"land under 'recipe.' instead of the top level: add it as the first line"
        )


def expand_sweeps(overrides: list[str]) -> list[list[str]]:
    """Override lists to check: the first value of every sweep, then each other value of each
    sweep in turn, so every value of every swept key is composed and checked once."""
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
    return runs


def extra_allowed_targets(overrides: list[str]) -> list[str]:
    """`safety.allow_targets` may only be widened from the command line or the user's own file."""
    allowed = user_allowed_targets()
    for override in overrides:
        key, _, value = override.partition("=")
        if key.lstrip("+~") == "safety.allow_targets":
            allowed += [v.strip().strip("'\"") for v in value.strip("[]").split(",") if v.strip()]
    return allowed


def check_hydra_node(cfg: DictConfig, overrides: list[str], config_dirs: list[Path], config_name: str,
                     baselines: dict[tuple[str, ...], Any] | None = None) -> None:  # fmt: skip
    """A recipe may not set anything in Hydra's node: compose again without the recipe (the
    command line's Hydra settings kept) and refuse any difference. `baselines` keeps each such
    composition for the sweep runs that share it."""
    if cfg.hydra.runtime.choices.get("recipe") is None:
        return
    own = (*(o for o in overrides if is_hydra_override(o)), "~recipe")
    baselines = {} if baselines is None else baselines
    if own not in baselines:
        baselines[own] = OmegaConf.to_container(_compose(list(own), config_dirs, config_name).hydra, resolve=False)
    composed = OmegaConf.to_container(cfg.hydra, resolve=False)
    changed = list(hydra_differences(composed, baselines[own]))
    if changed:
        recipe = cfg.hydra.runtime.choices.get("recipe")
        raise UserError(
            f"refusing to run: recipe '{recipe}' sets {changed[0]}; a recipe may not set Hydra's settings "
            "(callbacks, logging, env_set, launcher, sweeper, mode, run dirs): set them on the command line"
        )


def check_config(cfg: DictConfig | dict, cli_overrides: list[str], cli_allowed: list[str]) -> InftoolConfig:
    """Refuse unsafe targets (at any depth of the resolved config) and recipe-set
    command-line-only keys in one composed config, then validate it. (The hydra node is the
    command line's own: `check_hydra_node` keeps recipes out of it.)"""
    container = to_container(cfg) if isinstance(cfg, DictConfig) else cfg
    check_cli_only_keys(container, cli_overrides, cli_allowed)
    check_targets(container, cli_allowed)  # before validation, which imports the agent classes
    return validate(container)


def precheck(argv: list[str]) -> Invocation:
    """Everything that can be wrong with the command line, found before anything runs."""
    inv = parse_argv(argv)
    cli_allowed = extra_allowed_targets(inv.overrides)
    runs = expand_sweeps(inv.overrides) if inv.multirun else [inv.overrides]
    for name in chosen_recipes(runs, inv.config_dirs, inv.config_name):
        check_recipe_file(name, inv.config_dirs)
    baselines: dict[tuple[str, ...], Any] = {}
    for overrides in runs:
        cfg = compose_config(overrides, inv.config_dirs, inv.config_name, inv.added_keys)
        current = [_with_prefix(o, inv.added_keys) for o in overrides]
        check_hydra_node(cfg, current, inv.config_dirs, inv.config_name, baselines)
        check_config(cfg, overrides, cli_allowed)
        inv.secrets |= collect_secrets(to_container(cfg))
    inv.secrets |= secrets_in_overrides(inv.overrides)
    return inv
