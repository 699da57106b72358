from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def run_inftool(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300):
    """Run the real command line in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "inftool", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def inftool_cli(tmp_path: Path):
    def run(*args: str, env: dict[str, str] | None = None, timeout: int = 300):
        return run_inftool(*args, cwd=tmp_path, env=env, timeout=timeout)

    return run
