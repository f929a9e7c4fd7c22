#!/usr/bin/env bash
# The V4 model kernels on a lent GPU, in one call (scripts/gpu-check.sh does the compiler's
# own GPU tests and benchmarks; this does models/deepseek_v4/kernels):
#
#   bash scripts/gpu-v4.sh bundle   # here: build v4_kernels_unittests and the bench, compile
#                                   # every test variant (test/models/deepseek_v4/*.cmake)
#                                   # and the V4-Flash builds for sm_90a and sm_100a into .gpu-v4/
#   bash scripts/gpu-v4.sh run      # on the GPU: the same CPU-target tests with
#                                   # TLV4_GPU_KERNELS pointing at the PTX builds (every check
#                                   # against the reference runs on the GPU), compute-sanitizer
#                                   # memcheck/racecheck/synccheck on them, then the benchmarks
#
# With the device tool: run(command="bash scripts/gpu-v4.sh run", carry=[".gpu-v4"]).
# Results go to $OUT (or .gpu-v4/out). GTEST_FILTER narrows the tests; V4_BENCH=0 skips the
# benchmarks, V4_SANITIZE=0 the sanitizer.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bundle="$root/.gpu-v4"
build="${TLC_BUILD_DIR:-$root/build}"

case "${1:-}" in
bundle)
  set -e
  ninja -C "$build" v4_kernels_unittests tlc_v4attn_bench tlv4_kernels tlv4_kernelset_tiny
  rm -rf "$bundle"
  mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/sm_90a" "$bundle/sm_100a" "$bundle/flash"
  cp "$build/bin/v4_kernels_unittests" "$build/bin/tlc_v4attn_bench" "$bundle/bin/"
  # The device model's tiny kernel set (tlv4/KernelSet.h) for V4DeviceModel.* on the GPU.
  mkdir -p "$bundle/kernelsets/tiny"
  cp "$build/models/deepseek_v4/kernelsets/tiny/plan.txt" "$bundle/kernelsets/tiny/"
  cp -r "$build/models/deepseek_v4/kernelsets/tiny/sm_90a" "$bundle/kernelsets/tiny/"
  # The V4-Flash builds the model uses (models/deepseek_v4/kernels/CMakeLists.txt).
  for arch in sm_90a sm_100a; do
    cp -r "$build/models/deepseek_v4/kernels/$arch" "$bundle/flash/"
  done
  # Every test variant, for each GPU architecture (an --arch flag picks the CPU's code
  # path only: a GPU build is its own architecture).
  source "$root/scripts/variants.sh"
  gpu_variant() {
    local module=$1 src=$2 arch
    shift 2
    for arch in sm_90a sm_100a; do
      if ! "$build/bin/tlc" "$src" --target $arch --emit ptx "$@" \
           -o "$bundle/$arch/$module.ptx" 2>>"$bundle/compile-errors.log"; then
        echo "$arch: $module does not compile (see .gpu-v4/compile-errors.log)"
        rm -f "$bundle/$arch/$module.ptx" "$bundle/$arch/$module.manifest.json"
      fi
    done
  }
  for list in "$root"/test/models/deepseek_v4/*.cmake; do
    each_variant "$list" tlv4_test_kernel v4kernels "$root/models/deepseek_v4/kernels" \
      gpu_variant no-arch
  done
  for lib in $(ldd "$bundle"/bin/* | awk '/=>/ {print $3}' | grep -E "libfmt|libgtest" | sort -u); do
    cp -L "$lib" "$bundle/lib/"
  done
  du -sh "$bundle"
  ;;
run)
  # Everything is written straight into $OUT, so a run cut short by the device's time limit
  # still returns what it finished; each step has its own timeout.
  out="${OUT:-$bundle/out}"
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$bundle/lib:${LD_LIBRARY_PATH:-}"
  nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader | tee "$out/gpu.txt"
  cc="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' \r')"
  case "$cc" in 10.*) arch=sm_100a ;; *) arch=sm_90a ;; esac
  export TLV4_GPU_KERNELS="$bundle/$arch"
  status=0
  echo "== V4 kernel tests on the GPU ($arch)"
  # The device model's tests run the whole model on the GPU (TLV4_DEVICE=cuda) from the tiny
  # kernel set; the kernel tests launch their own variants (TLV4_GPU_KERNELS).
  TLV4_DEVICE=cuda TLV4_KERNEL_SET="$bundle/kernelsets/tiny" \
    timeout "${V4_TEST_TIMEOUT:-150}" "$bundle/bin/v4_kernels_unittests" \
    --gtest_filter="${V4_TEST_FILTER:-*}" > "$out/v4_tests.log" 2>&1
  rc=$?
  grep -E "^\[ *(OK|FAILED|SKIPPED) *\]|PASSED|Failure|Expected|Which is|actual|error|note" "$out/v4_tests.log" | head -150
  echo "tests exit $rc"
  [ $rc = 0 ] || status=1
  if [ "${V4_SANITIZE:-1}" = 1 ]; then
    cs="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
    for tool in memcheck racecheck synccheck; do
      echo "== compute-sanitizer $tool"
      TLV4_DEVICE=cuda TLV4_KERNEL_SET="$bundle/kernelsets/tiny" \
        timeout "${V4_SANITIZE_TIMEOUT:-60}" "$cs" --tool "$tool" --error-exitcode 9 --print-limit 20 \
        "$bundle/bin/v4_kernels_unittests" \
        --gtest_filter="${V4_SANITIZE_FILTER:-*Tiny*:*EmptySplits*}" >"$out/sanitizer_$tool.log" 2>&1
      rc=$?
      grep -E "ERROR SUMMARY|PASSED|FAILED|Race reported|Barrier error" "$out/sanitizer_$tool.log" | head -8
      echo "$tool exit $rc"
      [ $rc = 0 ] || status=1
    done
  fi
  if [ "${V4_BENCH:-1}" = 1 ]; then
    echo "== V4 attention benchmarks"
    timeout "${V4_BENCH_TIMEOUT:-240}" "$bundle/bin/tlc_v4attn_bench" \
      --manifest "$bundle/flash/$arch/sparse_attn.manifest.json" \
      --indexer "$bundle/flash/$arch/indexer.manifest.json" \
      --topk "$bundle/flash/$arch/topk.manifest.json" \
      --json "$out/v4attn.jsonl" ${V4_BENCH_ARGS:-} 2>&1 | tee "$out/bench.log"
  fi
  echo "gpu-v4 status: $status" | tee -a "$out/gpu.txt"
  exit $status
  ;;
*)
  echo "usage: scripts/gpu-v4.sh bundle|run" >&2
  exit 2
  ;;
esac
