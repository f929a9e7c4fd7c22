#!/usr/bin/env bash
# One-call GPU check. Two halves, because the GPU machine has CUDA but no MLIR:
#
#   bash scripts/gpu-check.sh bundle   # here: build, compile the kernels with
#                                      # tlc, gather everything into .gpu/
#   bash scripts/gpu-check.sh run      # on the lent GPU, from the repo root
#                                      # with .gpu carried: tests, sanitizer,
#                                      # benchmarks, then a summary
#
# With the device tool: run(command="bash scripts/gpu-check.sh run", carry=[".gpu"]).
# Everything the run writes goes under $OUT (or .gpu/out when OUT is unset).
#
# The bundle holds every kernel twice, with the same file names: .gpu/kernels/ (sm_90a,
# Hopper) and .gpu/kernels_sm100a/ (sm_100a, Blackwell; kernels whose sm_100a compile tlc
# does not support yet are left out). `run` reads the GPU's compute capability and uses the
# folder for it (9.x: kernels/, 10.x: kernels_sm100a/); a test whose kernel is missing there
# skips, and the summary says which folder ran and what skipped.
#
# Attention: bundle compiles examples/flash_attn_fwd.tl into the benchmark variants
# (kernels/flash_attn_fwd_d{64,128,256}[_causal]); a variant tlc cannot compile (today: every
# sm_100a one) is reported and left out (details in .gpu/attention-compile.log). The GPU
# tests' attention kernels are built unless the build is configured with
# -DTLC_GPU_ATTENTION=OFF (TLC_GPU_ATTENTION=OFF bash scripts/gpu-check.sh bundle).
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
  if [ -n "${TLC_GPU_ATTENTION:-}" ]; then
    cmake -S "$root" -B "$build" -DTLC_GPU_ATTENTION="$TLC_GPU_ATTENTION" >/dev/null
  fi
  targets="gpu_kernel_tests runtime_unittests tlc_gpu_test_kernels"
  for b in tlc_gemm_bench tlc_attn_bench; do
    if grep -q "$b" "$build/build.ninja" 2>/dev/null; then
      targets="$targets $b"
    fi
  done
  # Start the test kernels afresh, so no kernel of an earlier configuration (say
  # TLC_GPU_ATTENTION=ON) is bundled stale.
  rm -rf "$build/test/gpu/kernels" "$build/test/gpu/kernels_sm100a"
  # shellcheck disable=SC2086
  ninja -C "$build" -j"$(nproc)" $targets
  rm -rf "$bundle"
  mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/kernels" "$bundle/kernels_sm100a"
  cp "$build/bin/gpu_kernel_tests" "$build/bin/runtime_unittests" "$bundle/bin/"
  for b in tlc_gemm_bench tlc_attn_bench; do
    [ -f "$build/bin/$b" ] && cp "$build/bin/$b" "$bundle/bin/"
  done
  cp "$build"/test/gpu/kernels/* "$bundle/kernels/"
  if [ -d "$build/test/gpu/kernels_sm100a" ]; then
    cp "$build"/test/gpu/kernels_sm100a/* "$bundle/kernels_sm100a/"
  fi
  tlc="$build/bin/tlc"
  # compile NAME SRC TARGET DEFS: benchmark kernel NAME into the folder for TARGET; logs the
  # time (compile-times.txt) or the error (returned as status 1, message in $compile_error).
  compile() {
    local name="$1" src="$2" target="$3" defs="$4" dir="$bundle/kernels" start end log
    [ "$target" = sm_100a ] && dir="$bundle/kernels_sm100a"
    log="$(mktemp)"
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    if ! "$tlc" "$src" --target "$target" --emit ptx $defs -o "$dir/$name.ptx" >"$log" 2>&1; then
      compile_error="$(grep -m1 "error" "$log" || head -1 "$log")"
      { echo "== $tlc $src --target $target --emit ptx $defs"; cat "$log"; } >>"$bundle/compile-errors.log"
      rm -f "$log" "$dir/$name.ptx" "$dir/$name.manifest.json"
      return 1
    fi
    end=$(date +%s.%N)
    rm -f "$log"
    local label="$name"
    [ "$target" = sm_90a ] || label="$name ($target)"
    echo "tlc compile $label: $(echo "$end - $start" | bc) s" | tee -a "$bundle/compile-times.txt"
  }
  # Benchmark kernels: every GEMM tile variant the bench compares; sm_90a must compile,
  # sm_100a is best effort (the bench on a Blackwell GPU times what is there).
  for v in "gemm_bf16:" "gemm_bf16_bn256:-D BN=256 -D stages=4" "gemm_bf16_bn256_s3:-D BN=256" \
           "gemm_bf16_bn256_cx2:-D BN=256 -D stages=4 -D CX=2" \
           "gemm_fp8_blockscaled:" "gemm_fp8_blockscaled_s5:-D stages=5" \
           "gemm_fp8_blockscaled_cx2:-D CX=2"; do
    name="${v%%:*}"; defs="${v#*:}"
    case "$name" in gemm_fp8*) src="$root/examples/gemm_fp8_blockscaled.tl";; *) src="$root/examples/gemm_bf16.tl";; esac
    compile "$name" "$src" sm_90a "$defs" || { echo "$compile_error" >&2; exit 1; }
    compile "$name" "$src" sm_100a "$defs" ||
      echo "sm_100a: skipped benchmark kernel $name: $compile_error"
  done
  # Attention benchmark kernels: one variant per head size and causal flag (D = 256 with
  # 64-key tiles to fit shared memory). Skipped, with the reason, while tlc cannot compile
  # them (the GPU lowering of attention is not there yet).
  fa="$root/examples/flash_attn_fwd.tl"
  attn_log="$bundle/attention-compile.log"
  if [ ! -f "$fa" ]; then
    echo "attention: skipped: $fa is not on this branch yet; the attention bench will run the torch baselines only" |
      tee "$attn_log"
  else
    for arch in sm_90a sm_100a; do
      ok=0 failed=0 first=""
      # Ablations (sm_90a; TLC_ATTN_ABLATION=0 leaves them out): the same kernels with the
      # opt-in tl-pingpong, timed next to the others on the shapes of their D and causal flag.
      ablations=""
      if [ "$arch" = sm_90a ] && [ "${TLC_ATTN_ABLATION:-1}" = 1 ]; then
        ablations="flash_attn_fwd_d64_causal_pingpong:-D@D=64@-D@causal=True@--enable-pass=tl-pingpong
                   flash_attn_fwd_d128_pingpong:-D@D=128@--enable-pass=tl-pingpong
                   flash_attn_fwd_d128_causal_pingpong:-D@D=128@-D@causal=True@--enable-pass=tl-pingpong
                   flash_attn_fwd_d256_pingpong:-D@D=256@-D@BN=64@--enable-pass=tl-pingpong"
      fi
      for v in "flash_attn_fwd_d64:-D D=64" "flash_attn_fwd_d64_causal:-D D=64 -D causal=True" \
               "flash_attn_fwd_d128:-D D=128" "flash_attn_fwd_d128_causal:-D D=128 -D causal=True" \
               "flash_attn_fwd_d256:-D D=256 -D BN=64" \
               "flash_attn_fwd_d256_causal:-D D=256 -D BN=64 -D causal=True" \
               $ablations; do
        name="${v%%:*}"; defs="${v#*:}"; defs="${defs//@/ }"
        if compile "$name" "$fa" "$arch" "$defs" 2>>"$attn_log"; then
          ok=$((ok + 1))
        else
          failed=$((failed + 1))
          [ -n "$first" ] || first="$name: $compile_error"
          echo "$name ($arch): $compile_error" >>"$attn_log"
        fi
      done
      if [ "$failed" -eq 0 ]; then
        echo "attention: compiled $ok variants for $arch" | tee -a "$attn_log"
      else
        echo "attention: $arch: skipped $failed of $((ok + failed)) variants, tlc cannot compile" \
          "them yet (first: $first; all in .gpu/attention-compile.log)" |
          tee -a "$attn_log"
      fi
    done
  fi
  # Shared libraries the binaries need beyond the C/C++ runtime.
  for lib in $(ldd "$bundle"/bin/* | awk '/=>/ {print $3}' | grep -E "libfmt|libgtest" | sort -u); do
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
  cp "$bundle/compile-times.txt" "$bundle/attention-compile.log" "$out/" 2>/dev/null || true
  export LD_LIBRARY_PATH="$bundle/lib:${LD_LIBRARY_PATH:-}"
  export TLRT_TEST_CPU_KERNELS="$bundle/lib/cpu_kernels.so"
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,compute_cap --format=csv,noheader | tee "$out/gpu.txt"
  # The kernels for this GPU's architecture.
  cc="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' \r')"
  case "$cc" in
    10.*) arch=sm_100a; kernels="$bundle/kernels_sm100a" ;;
    9.*) arch=sm_90a; kernels="$bundle/kernels" ;;
    *) arch=""; kernels="$bundle/kernels" ;;
  esac
  if [ -z "$arch" ]; then
    arch_line="compute capability '${cc}' is neither 9.x nor 10.x: no tlc kernels for it, the GPU tests skip"
  elif [ ! -d "$kernels" ]; then
    arch_line="compute capability $cc: $arch kernels expected in ${kernels#"$root"/}, which the bundle lacks (made before sm_100a support?): the GPU tests skip"
  else
    arch_line="compute capability $cc: $arch kernels from ${kernels#"$root"/} ($(ls "$kernels" | grep -c '^gpu_.*\.manifest\.json$') test kernels)"
  fi
  echo "== $arch_line"
  export TLC_GPU_KERNELS="$kernels"
  status=0
  echo "== runtime tests"
  "$bundle/bin/runtime_unittests" 2>&1 | tee "$out/runtime_tests.log" | tail -3
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  echo "== kernel tests"
  # sed, not head: head would exit early and the SIGPIPE would kill the test binary mid-run.
  "$bundle/bin/gpu_kernel_tests" 2>&1 | tee "$out/kernel_tests.log" | grep -E "rel err|LSE max|OK \]|FAILED|PASSED|SKIPPED|Skipped|Failure|Expected|Which is|actual" | sed -n 1,120p
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  # Per-test result lines end in "(N ms)"; gtest's closing lists repeat the names without it.
  tests_with() { grep -E "^\[ *$1 *\] GpuKernels\.[A-Za-z0-9_]+ \([0-9]+ ms\)" "$out/kernel_tests.log" | sed -E 's/^\[[^]]*\] GpuKernels\.([A-Za-z0-9_]+).*/\1/'; }
  n_ok=$(tests_with OK | wc -l)
  n_failed=$(tests_with FAILED | wc -l)
  skipped="$(tests_with SKIPPED | paste -sd ' ' -)"
  n_skipped=$(tests_with SKIPPED | wc -l)
  if [ -n "$arch" ] && [ "$n_ok" -eq 0 ]; then
    echo "gpu-check: no kernel test ran on the GPU"
    status=1
  fi
  sanitizer_lines=""
  if [ "${TLC_SANITIZE:-1}" = 1 ] && { command -v compute-sanitizer >/dev/null || [ -x /usr/local/cuda/bin/compute-sanitizer ]; }; then
    cs="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
    for tool in memcheck racecheck synccheck; do
      echo "== compute-sanitizer $tool (small shapes)"
      TLC_GPU_TEST_SMALL=1 timeout 240 "$cs" --tool "$tool" --error-exitcode 9 \
        "$bundle/bin/gpu_kernel_tests" > "$out/sanitizer_$tool.log" 2>&1
      rc=$?
      tail -2 "$out/sanitizer_$tool.log"
      echo "$tool exit $rc"
      sanitizer_lines="$sanitizer_lines $tool=$rc"
      [ $rc = 0 ] || status=1
    done
  fi
  if [ -x "$bundle/bench/run.sh" ] && [ "${TLC_BENCH:-1}" = 1 ]; then
    echo "== benchmarks"
    BENCH_KERNEL_DIR="$kernels" OUT="$out" bash "$bundle/bench/run.sh" "$bundle" 2>&1 | tee "$out/bench.log" | tail -90
  fi
  {
    echo "== summary"
    echo "GPU: $(head -1 "$out/gpu.txt")"
    echo "kernels: $arch_line"
    echo "kernel tests: $n_ok passed, $n_failed failed, $n_skipped skipped${skipped:+ ($skipped)}"
    [ -z "$sanitizer_lines" ] || echo "compute-sanitizer exit codes:$sanitizer_lines"
    if [ -f "$out/attention-compile.log" ]; then
      grep "^attention:" "$out/attention-compile.log" | sed 's/^attention:/attention kernels:/'
    fi
    echo "gpu-check status: $status"
  } | tee "$out/summary.txt"
  tar -czf "$final/results.tgz" -C "$out" .
  for f in gpu.txt compile-times.txt summary.txt; do cp "$out/$f" "$final/" 2>/dev/null || true; done
  cp "$out/bench/perf_table.md" "$final/" 2>/dev/null || true
  exit $status
  ;;
*)
  echo "usage: scripts/gpu-check.sh bundle|run" >&2
  exit 2
  ;;
esac
