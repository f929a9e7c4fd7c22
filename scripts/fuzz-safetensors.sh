#!/usr/bin/env bash
# Build and run the checkpoint-format libFuzzer targets (safetensors header
# parser, config parser) for a while each (default 60 s).
# Usage: scripts/fuzz-safetensors.sh [seconds] [build-dir]
# Crashes are written as crash-* files into the build dir; the seed corpora
# are test/fuzz/corpus/{safetensors,config} (copied, so runs do not grow the
# repo).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
out="${2:-$root/build-fuzz-safetensors}"
mkdir -p "$out"
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined
       -I"$root/models/deepseek_v4/include" -I"$root/runtime/include")
clang++-14 "${flags[@]}" "$root/test/fuzz/safetensors_fuzzer.cpp" \
  "$root/models/deepseek_v4/src/Safetensors.cpp" \
  "$root/models/deepseek_v4/src/DType.cpp" -lfmt -o "$out/safetensors_fuzzer"
clang++-14 "${flags[@]}" "$root/test/fuzz/config_fuzzer.cpp" \
  "$root/models/deepseek_v4/src/Config.cpp" -lfmt -o "$out/config_fuzzer"
cd "$out"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for target in safetensors config; do
  mkdir -p "corpus-$target"
  cp "$root/test/fuzz/corpus/$target"/* "corpus-$target/"
  "./${target}_fuzzer" -max_total_time="$seconds" -max_len=4096 \
    -rss_limit_mb=2048 "corpus-$target"
done
