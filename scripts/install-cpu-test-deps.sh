#!/usr/bin/env bash
# Packages the tests read or import with --no-deps: BFCL's data (bfcl-eval, whose declared
# dependencies pull a multi-GB CUDA torch) and OpenRLHF 0.11.2 with what its argument parser and
# agent executors import on a CPU machine, and Chromium for the report test. vLLM and flash-attn
# cannot run here; the tests that need them stub only those imports (and Ray's, though the `ray`
# extra installs the real one, which tests/test_sharded.py runs) and say so.
set -euo pipefail
pip install -q --no-deps bfcl-eval==2026.3.23 openrlhf==0.11.2 torchdata==0.11.0
pip install -q pylatexenc peft hjson ninja py-cpuinfo msgpack einops pillow
DS_BUILD_OPS=0 pip install -q --no-deps --no-build-isolation deepspeed==0.19.8
# Headless Chromium (Debian's package) opens report.html in the report test.
if ! command -v chromium >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends chromium
fi
