"""The embedded engine is built to run on any x86-64 machine (issue 14): no AMX, nothing the CPU
lacks, and a clear line, not a SIGILL, where a wheel built elsewhere does not fit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from inftool.errors import UserError
from inftool.lm import cpu_fit
from tests.conftest import ROOT

NATIVE_SPR = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 1 | AMX_INT8 = 1 |"
NATIVE_AVX512 = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | AVX512 = 1 | AVX512_VNNI = 1 | REPACK = 1 |"


def test_installed_engine_uses_no_amx_and_nothing_this_cpu_lacks():
    import llama_cpp

    features = cpu_fit.build_features(llama_cpp.llama_print_system_info().decode())
    assert "AVX2" in features or "SSE3" in features  # the parser reads the real format
    assert not features & set(cpu_fit.NEVER)
    assert cpu_fit.misfit(features, cpu_fit.cpu_flags()) is None


def test_a_wheel_built_elsewhere_is_one_clear_line(monkeypatch):
    avx2_cpu = {"pni", "ssse3", "avx", "avx2", "f16c", "fma", "bmi2"}
    assert "AMX_INT8" in cpu_fit.misfit(cpu_fit.build_features(NATIVE_SPR), avx2_cpu | {"amx_int8", "avx512f"})
    assert "AVX512_VNNI" in cpu_fit.misfit(cpu_fit.build_features(NATIVE_AVX512), avx2_cpu | {"avx512f"})
    assert cpu_fit.misfit(cpu_fit.build_features(NATIVE_AVX512), avx2_cpu | {"avx512f", "avx512_vnni"}) is None
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "llama_print_system_info", lambda: NATIVE_SPR.encode())
    with pytest.raises(UserError, match=r"install-engine\.sh --rebuild") as err:
        cpu_fit.check_engine_fits_cpu()
    assert "\n" not in str(err.value)


def test_install_script_builds_portable_once_outside_pips_cache(tmp_path: Path):
    """A stand-in `pip` records what the script asks for: portable CMake flags, no pip cache, and a
    second run installs the kept wheel without building again."""
    log = tmp_path / "pip.log"
    fake = tmp_path / "bin" / "pip"
    fake.parent.mkdir()
    fake.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "CMAKE_ARGS=$CMAKE_ARGS ARGS=$*" >> {log}\n'
        'if [ "$1" = wheel ]; then for a in "$@"; do\n'
        '  [ "$prev" = -w ] && touch "$a/llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl"; prev=$a\n'
        "done; fi\n"
    )
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}", "INFTOOL_WHEEL_DIR": str(tmp_path / "w")}
    for _ in range(2):
        subprocess.run(["bash", str(ROOT / "scripts" / "install-engine.sh")], env=env, check=True, capture_output=True)
    calls = log.read_text().splitlines()
    builds = [c for c in calls if " ARGS=wheel " in c]
    assert len(builds) == 1 and len(calls) == 3, calls
    for flag in ("-DGGML_NATIVE=OFF", "-DGGML_AVX2=ON", "-DGGML_AMX_INT8=OFF", "-DGGML_AVX512=OFF"):
        assert flag in builds[0]
    assert "--no-cache-dir" in builds[0]
    assert all("install" in c and "--force-reinstall" in c for c in calls if c not in builds)
