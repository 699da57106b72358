#!/usr/bin/env bash
# Installs llama-cpp-python (the embedded engine) built for any x86-64 machine, not for this one.
#
# llama-cpp-python is source-only on PyPI and compiles llama.cpp with -march=native by default; on a
# VM whose CPU reports AMX that build dies with SIGILL (ggml's AMX tile kernels), and pip caches the
# wheel, so every later venv on the machine reuses it. Here the build is portable (AVX2/FMA/F16C/BMI2
# baseline, no AVX-512, no AMX), kept in inftool's own wheel folder (never pip's cache, which keys
# wheels by source only) and reinstalled from there in seconds. `--rebuild` builds it again.
set -euo pipefail
VERSION=0.3.36
WHEELS="${INFTOOL_WHEEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/inftool/wheels}/llama-cpp-python-$VERSION-portable-avx2"
FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
FLAGS="$FLAGS -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF"
FLAGS="$FLAGS -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
FLAGS="$FLAGS -DGGML_CPU_ALL_VARIANTS=OFF -DGGML_BACKEND_DL=OFF"

[ "${1:-}" = "--rebuild" ] && rm -rf "$WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-"$VERSION"-*.whl >/dev/null 2>&1; then
  echo "inftool: building llama-cpp-python $VERSION portable (AVX2 baseline, no AVX-512/AMX; ~10 min on 2 cores)"
  mkdir -p "$WHEELS.part"
  CMAKE_ARGS="$FLAGS" pip wheel -q --no-deps --no-cache-dir "llama-cpp-python==$VERSION" -w "$WHEELS.part"
  rm -rf "$WHEELS" && mv "$WHEELS.part" "$WHEELS"
fi
pip install -q --no-deps --force-reinstall "$WHEELS"/llama_cpp_python-"$VERSION"-*.whl
