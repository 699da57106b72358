"""The Hydra app: one job = validate the config, write the redacted run config, run the loop."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from inftool.config import to_container
from inftool.errors import UserError
from inftool.redaction import collect_secrets, install_log_redaction, redact, redact_known, redact_override


def config_search_dirs() -> list[Path]:
    """Folders the composed config came from (the user's --config-dir first), for relative paths."""
    sources = HydraConfig.get().runtime.config_sources
    return [Path(s.path) for s in sources if s.provider != "hydra" and s.schema == "file"]


def redact_hydra_node(node: Any, secrets: set[str]) -> Any:
    """A Hydra node with secrets masked, its override lists (`key=value` strings) included."""
    node = redact(node, secrets)
    overrides = node.setdefault("overrides", {})
    for group in ("task", "hydra"):
        overrides[group] = [redact_override(o, secrets) for o in overrides.get(group, [])]
    return node


def write_run_config(run_dir: Path, cfg: DictConfig, secrets: set[str]) -> None:
    """Our own `.hydra/` (Hydra's is switched off): the resolved config and the overrides, redacted."""
    hydra_dir = run_dir / ".hydra"
    hydra_dir.mkdir(parents=True, exist_ok=True)
    hydra_cfg = HydraConfig.get()
    overrides = [redact_override(o, secrets) for o in hydra_cfg.overrides.task]
    hydra_node = redact_hydra_node(OmegaConf.to_container(hydra_cfg, resolve=False, enum_to_str=True), secrets)
    if hydra_cfg.mode is not None and hydra_cfg.mode.name == "MULTIRUN":  # Hydra's sweep summary
        sweep_file = Path(hydra_cfg.sweep.dir) / "multirun.yaml"
        if sweep_file.is_file():
            sweep = yaml.safe_load(sweep_file.read_text())
            sweep["hydra"] = redact_hydra_node(sweep.get("hydra", {}), secrets)
            sweep_file.write_text(yaml.safe_dump(redact(sweep, secrets), sort_keys=False))
    files = {"config.yaml": redact(to_container(cfg), secrets), "overrides.yaml": overrides, "hydra.yaml": hydra_node}
    for name, data in files.items():
        (hydra_dir / name).write_text(yaml.safe_dump(data, sort_keys=False))


def recipe_file(search_dirs: list[Path]) -> Path | None:
    """The chosen recipe's YAML file (optimized programs are saved and found beside it)."""
    from inftool.recipes import recipe_dirs

    name = HydraConfig.get().runtime.choices.get("recipe")
    for folder in recipe_dirs(search_dirs) if name else []:
        if (folder / f"{name}.yaml").is_file():
            return (folder / f"{name}.yaml").resolve()
    return None


@hydra.main(config_path="pkg://inftool.conf", config_name="config", version_base="1.3")
def hydra_app(cfg: DictConfig) -> Any:
    try:
        from inftool.recipes import check_config, extra_allowed_targets

        # checked again as Hydra applied it (env_set, interpolations): what runs is what was checked
        container = to_container(cfg)
        cli_overrides = list(HydraConfig.get().overrides.task)
        config = check_config(container, cli_overrides, extra_allowed_targets(cli_overrides))
        run_dir = Path(HydraConfig.get().runtime.output_dir)
        secrets = collect_secrets(container)
        install_log_redaction(secrets)
        write_run_config(run_dir, cfg, secrets)
        from inftool.modes import run

        return run(config, run_dir, config_search_dirs(), recipe_file(config_search_dirs()))
    except UserError as exc:
        print(f"inftool: error: {redact_known(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)
