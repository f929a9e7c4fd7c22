#!/usr/bin/env bash
# Build and run the safetensors libFuzzer target for a while (default 60 s).
# Usage: scripts/fuzz-safetensors.sh [seconds] [build-dir]
# Crashes are written as crash-* files into the build dir; the seed corpus
# is test/fuzz/corpus/safetensors (copied, so runs do not grow the repo).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
out="${2:-$root/build-fuzz-safetensors}"
mkdir -p "$out/corpus"
cp "$root"/test/fuzz/corpus/safetensors/* "$out/corpus/"
clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined \
  -I"$root/models/deepseek_v4/include" -I"$root/runtime/include" \
  "$root/test/fuzz/safetensors_fuzzer.cpp" \
  "$root/models/deepseek_v4/src/Safetensors.cpp" \
  "$root/models/deepseek_v4/src/DType.cpp" \
  -lfmt -o "$out/safetensors_fuzzer"
cd "$out"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ./safetensors_fuzzer \
  -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 corpus
