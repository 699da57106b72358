"""Does the installed llama.cpp build fit this CPU?

llama-cpp-python compiles llama.cpp for the machine it was built on (`-march=native`), and pip
caches that wheel: copied to, or reused on, another machine it can die with SIGILL at the first
decode. AMX builds also die on VMs whose CPU reports AMX (the tile instructions fault there). So
before a model is loaded, the features the build uses (`llama_print_system_info()`) are checked
against the CPU's (`/proc/cpuinfo`), and a mismatch is one line saying how to rebuild.
"""

from __future__ import annotations

import re
from pathlib import Path

from inftool.errors import UserError

# llama.cpp's feature names -> /proc/cpuinfo flags
CPU_FLAGS = {
    "SSE3": "pni", "SSSE3": "ssse3", "AVX": "avx", "AVX2": "avx2", "F16C": "f16c", "FMA": "fma", "BMI2": "bmi2",
    "AVX_VNNI": "avx_vnni", "AVX512": "avx512f", "AVX512_VBMI": "avx512vbmi", "AVX512_VNNI": "avx512_vnni",
    "AVX512_BF16": "avx512_bf16", "AMX_INT8": "amx_int8", "AMX_TILE": "amx_tile", "AMX_BF16": "amx_bf16",
}  # fmt: skip
NEVER = ("AMX_INT8", "AMX_TILE", "AMX_BF16")  # fault on VMs that report them: never in a build we run
REBUILD = "rebuild it portable: bash scripts/install-engine.sh --rebuild"


def build_features(system_info: str) -> set[str]:
    """Features a build uses, from `llama_print_system_info()` (`AVX2 = 1 | ...`)."""
    return {name for name, on in re.findall(r"([A-Z0-9_]+) = (\d)", system_info) if on != "0"}


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The first CPU's flags, or None where there is no /proc/cpuinfo (nothing to check against)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    match = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    return set(match.group(1).split()) if match else None


def misfit(features: set[str], flags: set[str] | None) -> str | None:
    """Why this build must not run on this CPU, or None."""
    bad = sorted(f for f in features if f in NEVER)
    if bad:
        return f"it uses {', '.join(bad)}, which faults on many machines that report it"
    if flags is None:
        return None
    missing = sorted(f for f in features if f in CPU_FLAGS and CPU_FLAGS[f] not in flags)
    if missing:
        return f"it uses {', '.join(missing)}, which this CPU lacks (it was compiled for another machine)"
    return None


def check_engine_fits_cpu() -> None:
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    reason = misfit(build_features(info), cpu_flags())
    if reason:
        raise UserError(f"the installed llama-cpp-python cannot run here: {reason}; {REBUILD}")
