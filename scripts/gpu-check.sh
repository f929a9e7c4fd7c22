#!/usr/bin/env bash
# One-call GPU check. Two halves, because the GPU machine has CUDA but no MLIR:
#
#   bash scripts/gpu-check.sh bundle   # here: build, compile the kernels with
#                                      # tlc, gather everything into .gpu/
#   bash scripts/gpu-check.sh run      # on the lent GPU, from the repo root
#                                      # with .gpu carried: tests, sanitizer,
#                                      # benchmarks, then a summary table
#
# With the device tool: run(command="bash scripts/gpu-check.sh run", carry=[".gpu"]).
# Everything the run writes goes under $OUT (or .gpu/out when OUT is unset).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-}"
bundle="$root/.gpu"

case "$mode" in
bundle)
  set -e
  source "$root/scripts/common.sh"
  build="${TLC_BUILD_DIR:-$root/build}"
  [ -f "$build/build.ninja" ] || tlc_build
  targets="gpu_kernel_tests runtime_unittests tlc_gpu_test_kernels"
  if grep -q "tlc_gemm_bench" "$build/build.ninja" 2>/dev/null; then
    targets="$targets tlc_gemm_bench"
  fi
  ninja -C "$build" -j"$(nproc)" $targets
  rm -rf "$bundle"
  mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/kernels"
  cp "$build/bin/gpu_kernel_tests" "$build/bin/runtime_unittests" "$bundle/bin/"
  [ -f "$build/bin/tlc_gemm_bench" ] && cp "$build/bin/tlc_gemm_bench" "$bundle/bin/"
  cp "$build"/test/gpu/kernels/* "$bundle/kernels/"
  # Benchmark kernels: every GEMM tile variant the bench compares.
  tlc="$build/bin/tlc"
  for v in "gemm_bf16:" "gemm_bf16_bn256:-D BN=256 -D stages=4" "gemm_bf16_bn256_s3:-D BN=256" \
           "gemm_bf16_bn256_cx2:-D BN=256 -D stages=4 -D CX=2" \
           "gemm_fp8_blockscaled:" "gemm_fp8_blockscaled_s5:-D stages=5" \
           "gemm_fp8_blockscaled_cx2:-D CX=2"; do
    name="${v%%:*}"; defs="${v#*:}"
    src="$root/examples/${name%%_bn*}.tl"
    case "$name" in gemm_fp8*) src="$root/examples/gemm_fp8_blockscaled.tl";; *) src="$root/examples/gemm_bf16.tl";; esac
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$tlc" "$src" --target sm_90a --emit ptx $defs -o "$bundle/kernels/$name.ptx"
    end=$(date +%s.%N)
    echo "tlc compile $name: $(echo "$end - $start" | bc) s" | tee -a "$bundle/compile-times.txt"
  done
  # Shared libraries the binaries need beyond the C/C++ runtime.
  for lib in $(ldd "$bundle/bin/gpu_kernel_tests" "$bundle/bin/runtime_unittests" | awk '/=>/ {print $3}' | grep -E "libfmt|libgtest" | sort -u); do
    cp -L "$lib" "$bundle/lib/"
  done
  cp -r "$root/bench" "$bundle/bench" 2>/dev/null || true
  # The runtime tests' CPU fixture.
  fixture=$(find "$build/test/unit/runtime" -name cpu_kernels.so | head -1)
  [ -n "$fixture" ] && cp "$fixture" "$bundle/lib/"
  du -sh "$bundle"
  ;;
run)
  # Logs go to a work folder; $OUT (or .gpu/out) gets results.tgz with all of
  # them plus the summary files (the device tool returns at most 8 files).
  final="${OUT:-$bundle/out}"
  out="$(mktemp -d)"
  mkdir -p "$final"
  cp "$bundle/compile-times.txt" "$out/" 2>/dev/null || true
  export LD_LIBRARY_PATH="$bundle/lib:${LD_LIBRARY_PATH:-}"
  export TLC_GPU_KERNELS="$bundle/kernels"
  export TLRT_TEST_CPU_KERNELS="$bundle/lib/cpu_kernels.so"
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee "$out/gpu.txt"
  status=0
  echo "== runtime tests"
  "$bundle/bin/runtime_unittests" 2>&1 | tee "$out/runtime_tests.log" | tail -3 || status=1
  echo "== kernel tests"
  "$bundle/bin/gpu_kernel_tests" 2>&1 | tee "$out/kernel_tests.log" | grep -E "rel err|OK \]|FAILED|PASSED|SKIPPED|Failure|Expected|Which is|actual" | head -80
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  if [ "${TLC_SANITIZE:-1}" = 1 ] && { command -v compute-sanitizer >/dev/null || [ -x /usr/local/cuda/bin/compute-sanitizer ]; }; then
    cs="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
    for tool in memcheck racecheck synccheck; do
      echo "== compute-sanitizer $tool (small shapes)"
      TLC_GPU_TEST_SMALL=1 timeout 240 "$cs" --tool "$tool" --error-exitcode 9 \
        "$bundle/bin/gpu_kernel_tests" > "$out/sanitizer_$tool.log" 2>&1
      rc=$?
      tail -2 "$out/sanitizer_$tool.log"
      echo "$tool exit $rc"
      [ $rc = 0 ] || status=1
    done
  fi
  if [ -x "$bundle/bench/run.sh" ] && [ "${TLC_BENCH:-1}" = 1 ]; then
    echo "== benchmarks"
    OUT="$out" bash "$bundle/bench/run.sh" "$bundle" 2>&1 | tee "$out/bench.log" | tail -70
  fi
  tar -czf "$final/results.tgz" -C "$out" .
  for f in gpu.txt compile-times.txt; do cp "$out/$f" "$final/" 2>/dev/null || true; done
  cp "$out/bench/perf_table.md" "$final/" 2>/dev/null || true
  echo "gpu-check status: $status"
  exit $status
  ;;
*)
  echo "usage: scripts/gpu-check.sh bundle|run" >&2
  exit 2
  ;;
esac
