"""Keeping secrets out of run folders, run-dir names, logs and stdout.

Secrets are the values under secret-named keys (`api_key`, `token`, ...), the values of the env
vars that `*_env` keys name, and the userinfo of any URL (`https://user:pass@host`). They are
masked in the `.hydra/` files inftool writes, in Hydra's sweep file, in every log record (Hydra's
own `-m` job lines included) and in error lines.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SECRET_KEY = re.compile(r"(api_?key|token|secret|password|passwd|credentials?)$", re.IGNORECASE)
URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+(?=@)")
REDACTED = "***REDACTED***"


def safe_url(url: str) -> str:
    """The URL without its userinfo, fit to print."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=f"{REDACTED}@{parts.netloc.rpartition('@')[2]}"))


def collect_secrets(config: Any, environ: dict[str, str] | None = None) -> set[str]:
    """Secret values in a resolved config (see the module docstring)."""
    environ = dict(os.environ) if environ is None else environ
    found: set[str] = set()

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for child, value in node.items():
                walk(value, str(child))
        elif isinstance(node, list):
            for value in node:
                walk(value, key)
        elif isinstance(node, str) and node:
            if SECRET_KEY.search(key):
                found.add(node)
            elif key.endswith("_env") and environ.get(node):
                found.add(environ[node])
            found.update(URL_USERINFO.findall(node))

    walk(config)
    return {s for s in found if len(s) >= 4}


def secrets_in_overrides(overrides: list[str]) -> set[str]:
    """Secrets a command line carries: values of secret-named keys and URL userinfo."""
    found: set[str] = set()
    for override in overrides:
        key, sep, value = override.partition("=")
        if sep and SECRET_KEY.search(key.lstrip("+~").split(".")[-1]) and not value.startswith("${"):
            found.add(value.strip("'\""))
        found.update(URL_USERINFO.findall(override))
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
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return URL_USERINFO.sub(REDACTED, text)


def redact_known(text: str) -> str:
    """`text` with every secret seen so far (and any URL userinfo) masked: for error lines."""
    return redact_text(text, _SECRETS)


def redact_override(override: str, secrets: set[str]) -> str:
    key, sep, _value = override.partition("=")
    if sep and SECRET_KEY.search(key.lstrip("+~").split(".")[-1]):
        return f"{key}={REDACTED}"
    return redact_text(override, secrets)


_SECRETS: set[str] = set()
_INSTALLED: list[bool] = []


def install_log_redaction(secrets: set[str]) -> None:
    """Mask secrets in every log record from now on, whoever logs it and however logging is
    configured later (Hydra re-configures handlers for each job; the record factory survives)."""
    if not _INSTALLED:
        _INSTALLED.append(True)
        make_record = logging.getLogRecordFactory()

        def redacting_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            if _SECRETS:
                record.msg, record.args = redact_text(record.getMessage(), _SECRETS), None
            return record

        logging.setLogRecordFactory(redacting_record)
    _SECRETS.update(secrets)
