#!/usr/bin/env bash
# Builds every libFuzzer target (test/fuzz) with clang-14 and ASan/UBSan in a
# build dir of its own, runs each on a copy of its seed corpus
# (test/fuzz/corpus/<name>) for a share of a bounded total time, and exits
# non-zero if any of them crashes, hangs, leaks or runs out of memory.
#
# Usage: scripts/run-fuzzers.sh [total-seconds]      (default 60)
# Environment: TLC_FUZZ_BUILD_DIR (default build-fuzz), TLC_JOBS (default 2),
#              TLC_FUZZ_ONLY=name (run one fuzzer, e.g. frontend_fuzzer).
# Crash reproducers land in $TLC_FUZZ_BUILD_DIR/fuzz-artifacts/; rerun one
# with `build-fuzz/bin/<name> <file>`.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
total="${1:-60}"
build="${TLC_FUZZ_BUILD_DIR:-$root/build-fuzz}"
jobs="${TLC_JOBS:-2}"
artifacts="$build/fuzz-artifacts"

die() { echo "fuzz: error: $*" >&2; echo "fuzz: 0 passed, 1 failed"; exit 1; }

command -v clang++-14 >/dev/null || die "clang++-14 not found (apt-get install clang-14 libclang-rt-14-dev)"

mkdir -p "$build"
echo "== configuring $build (clang-14, fuzzers on, compiler off)"
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTLC_ENABLE_COMPILER=OFF -DTLC_ENABLE_TESTS=ON -DTLC_ENABLE_FUZZERS=ON \
  >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; die "configure failed"; }

mapfile -t fuzzers < <(ninja -C "$build" -t targets all 2>/dev/null |
  sed -n 's/^bin\/\([A-Za-z0-9_]*_fuzzer\): CXX_EXECUTABLE_LINKER.*/\1/p' | sort -u)
if [ -n "${TLC_FUZZ_ONLY:-}" ]; then
  fuzzers=("$TLC_FUZZ_ONLY")
fi
[ ${#fuzzers[@]} -gt 0 ] || die "no fuzz targets configured"

echo "== building ${fuzzers[*]}"
ninja -C "$build" -j "$jobs" "${fuzzers[@]}" || die "build failed"

per=$(( total / ${#fuzzers[@]} ))
[ "$per" -ge 1 ] || per=1
mkdir -p "$artifacts"
passed=0
failed=0
for f in "${fuzzers[@]}"; do
  seeds="$root/test/fuzz/corpus/${f%_fuzzer}"
  work="$(mktemp -d)"
  mkdir -p "$work/corpus"
  [ -d "$seeds" ] && cp -r "$seeds/." "$work/corpus/"
  dict=()
  [ -f "$root/test/fuzz/${f%_fuzzer}.dict" ] && dict=(-dict="$root/test/fuzz/${f%_fuzzer}.dict")
  echo "== $f: ${per}s on $(ls "$work/corpus" | wc -l) seeds"
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    "$build/bin/$f" -max_total_time="$per" -timeout=5 -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/$f-" "${dict[@]}" \
    "$work/corpus" >"$work/log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz: $f: ok, ${execs:-?} runs in ${per}s"
    passed=$((passed + 1))
  else
    echo "fuzz: $f: FAILED (exit $rc); log tail:"
    tail -n 60 "$work/log"
    failed=$((failed + 1))
  fi
  rm -rf "$work"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
