"""Making shared recipes safe to run, and keeping secrets out of run folders and logs.

A recipe is a file a team receives from another team. Hydra's `instantiate` will import and
call whatever `_target_` names, so every `_target_` in the composed config (the `hydra` node
included: callbacks run before any job) must fall inside an allow-list. The list can only be
widened from the command line or from the user's own file, never by a recipe.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from inftool.errors import UserError

DEFAULT_ALLOWED = ("inftool.", "dspy.")
HYDRA_ALLOWED = ("hydra.", "hydra_plugins.")  # Hydra's own launchers/sweepers, only under `hydra:`
USER_ALLOW_FILE = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "inftool" / "allowed_targets.txt"

SECRET_KEY = re.compile(r"(api_?key|token|secret|password)$", re.IGNORECASE)
REDACTED = "***REDACTED***"


def user_allowed_targets() -> list[str]:
    """Prefixes the user allowed in their own file, one per line (`#` comments)."""
    if not USER_ALLOW_FILE.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in USER_ALLOW_FILE.read_text().splitlines())
    return [line for line in lines if line]


def iter_targets(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (dotted key, target) for every `_target_` in a plain container."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            if key == "_target_" and isinstance(value, str):
                yield path or "<root>", value
            else:
                yield from iter_targets(value, child)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from iter_targets(value, f"{path}[{index}]")


def _allowed(target: str, prefixes: Iterable[str]) -> bool:
    return any(target == p.rstrip(".") or target.startswith(p if p.endswith(".") else p + ".") for p in prefixes)


def check_targets(config: dict[str, Any], extra_allowed: Iterable[str] = ()) -> None:
    """Refuse the run if any `_target_` falls outside the allow-list."""
    allowed = (*DEFAULT_ALLOWED, *extra_allowed)
    for where, target in iter_targets(config):
        prefixes = (*allowed, *HYDRA_ALLOWED) if where.startswith("hydra") else allowed
        if not _allowed(target, prefixes):
            raise UserError(
                f"refusing to run: '{where}._target_: {target}' is outside the allow-list "
                f"({', '.join(allowed)}); if you trust it, pass safety.allow_targets=[{target}] "
                f"on the command line or add it to {USER_ALLOW_FILE}"
            )


def collect_secrets(config: Any, environ: dict[str, str] | None = None) -> set[str]:
    """Secret values in a resolved config: values under secret-named keys, and the values of
    the env vars that `*_env` keys name."""
    environ = dict(os.environ) if environ is None else environ
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str) and value and SECRET_KEY.search(str(key)):
                    found.add(value)
                elif isinstance(value, str) and str(key).endswith("_env") and environ.get(value):
                    found.add(environ[value])
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return {s for s in found if len(s) >= 4}


def redact(node: Any, secrets: set[str]) -> Any:
    """A copy with secret-named keys and every occurrence of a secret value masked."""
    if isinstance(node, dict):
        return {
            k: REDACTED if SECRET_KEY.search(str(k)) and isinstance(v, str) and v else redact(v, secrets)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [redact(v, secrets) for v in node]
    if isinstance(node, str):
        return redact_text(node, secrets)
    return node


def redact_text(text: str, secrets: set[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def redact_override(override: str, secrets: set[str]) -> str:
    key, sep, _value = override.partition("=")
    if sep and SECRET_KEY.search(key.lstrip("+~").split(".")[-1]):
        return f"{key}={REDACTED}"
    return redact_text(override, secrets)


class RedactingFilter(logging.Filter):
    """Masks secret values in every record a handler emits."""

    def __init__(self, secrets: set[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = redact_text(record.getMessage(), self.secrets)
            record.args = None
        return True


def install_log_redaction(secrets: set[str]) -> None:
    root = logging.getLogger()
    for handler in root.handlers:
        handler.addFilter(RedactingFilter(secrets))
