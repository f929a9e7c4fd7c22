#!/usr/bin/env bash
# Exhaustively compare tlrt's host f32->bf16/f16/e4m3/e5m2 conversions with
# the GPU's cvt instructions (needs nvcc and an sm_89+ GPU).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-/tmp/check-lowprecision-gpu}"
nvcc="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
"$nvcc" -std=c++17 -O2 -arch=sm_90 -I"$root/runtime/include" \
  "$root/scripts/check-lowprecision-gpu.cu" "$root/runtime/src/LowPrecision.cpp" \
  -o "$out"
"$out"
