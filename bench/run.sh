#!/usr/bin/env bash
# bench/run.sh BUNDLE: runs the GEMM benchmarks on the GPU machine.
#
# BUNDLE holds
#   bin/tlc_gemm_bench
#   kernels/gemm_bf16*.manifest.json (+ .ptx/.cubin)            every bf16 variant is timed
#   kernels/gemm_fp8_blockscaled*.manifest.json (+ .ptx/.cubin) every fp8 variant is timed
#   bench/gemm/{baseline,report}.py, bench/gemm/shapes.txt   (each falls back to the copy
#                                                               beside this script)
#   lib/ (optional): shared libraries the binary needs (e.g. libfmt.so.9), put on LD_LIBRARY_PATH
#
# For every shape it runs each tlc variant and the torch baselines (cuBLAS bf16, cuBLASLt FP8
# blockwise) in this one run, then prints report.py's markdown table (best variant per shape).
# Files go to $OUT/bench (or ./bench-results when OUT is unset): tlc_<variant>.jsonl,
# baseline.jsonl, *.log, perf_table.md, env.txt.
#
# Environment: BENCH_SHAPES ("M,N,K;..." instead of shapes.txt), BENCH_WARMUP_MS (100),
# BENCH_REP_MS (300), BENCH_KINDS ("bf16 fp8"), BENCH_SKIP_BASELINE=1, BENCH_KERNEL_DIR (default
# BUNDLE/kernels; gpu-check.sh points it at kernels_sm100a on a Blackwell GPU).
set -uo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: $0 BUNDLE_DIR" >&2
  exit 2
fi
BUNDLE="$(cd "$1" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RESULTS="${OUT:-$PWD/bench-results}/bench"
mkdir -p "$RESULTS"
WARMUP_MS="${BENCH_WARMUP_MS:-100}"
REP_MS="${BENCH_REP_MS:-300}"
KINDS="${BENCH_KINDS:-bf16 fp8}"
KDIR="${BENCH_KERNEL_DIR:-$BUNDLE/kernels}"

pick() { # first existing of $BUNDLE/bench/gemm/$1, $HERE/gemm/$1
  for f in "$BUNDLE/bench/gemm/$1" "$HERE/gemm/$1"; do
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  echo "run.sh: $1 not found in $BUNDLE/bench/gemm or $HERE/gemm" >&2
  return 1
}
BIN="${TLC_GEMM_BENCH:-$BUNDLE/bin/tlc_gemm_bench}"
BASELINE="$(pick baseline.py)" || exit 2
REPORT="$(pick report.py)" || exit 2
SHAPES_FILE="$(pick shapes.txt)" || SHAPES_FILE=""
if [ -n "${BENCH_SHAPES:-}" ]; then
  SHAPES="$BENCH_SHAPES"
elif [ -n "$SHAPES_FILE" ]; then
  SHAPES="$(sed -e 's/#.*//' "$SHAPES_FILE" | tr -d ' \t\r' | grep -v '^$' | paste -sd ';' -)"
else
  echo "run.sh: no shapes (shapes.txt missing and BENCH_SHAPES unset)" >&2
  exit 2
fi
[ -d "$BUNDLE/lib" ] && export LD_LIBRARY_PATH="$BUNDLE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,compute_cap --format=csv,noheader 2>&1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1
  echo "warmup_ms $WARMUP_MS rep_ms $REP_MS kernels $KDIR"
  echo "shapes $SHAPES"
} >"$RESULTS/env.txt"
cat "$RESULTS/env.txt"

status=0
if [ ! -x "$BIN" ]; then
  echo "run.sh: $BIN is missing or not executable" >&2
  status=1
else
  for kind in $KINDS; do
    case "$kind" in
      bf16) pattern="gemm_bf16*.manifest.json" ;;
      fp8) pattern="gemm_fp8_blockscaled*.manifest.json" ;;
      *) echo "run.sh: unknown kind $kind" >&2; status=1; continue ;;
    esac
    found=0
    for m in "$KDIR"/$pattern; do
      [ -f "$m" ] || continue
      found=1
      variant="$(basename "$m" .manifest.json)"
      echo "== tlc $kind $variant"
      "$BIN" --manifest "$m" --kind "$kind" --shapes "$SHAPES" --warmup-ms "$WARMUP_MS" \
        --rep-ms "$REP_MS" --json "$RESULTS/tlc_$variant.jsonl" 2>&1 | tee "$RESULTS/tlc_$variant.log"
      rc=${PIPESTATUS[0]}
      [ "$rc" -eq 0 ] || { echo "run.sh: tlc_gemm_bench $variant exited $rc"; status=1; }
    done
    [ "$found" -eq 1 ] || { echo "run.sh: no $KDIR/$pattern" >&2; status=1; }
  done
fi

if [ "${BENCH_SKIP_BASELINE:-0}" != 1 ]; then
  echo "== torch baselines"
  python3 "$BASELINE" --shapes "$SHAPES" --kinds "$(echo $KINDS | tr ' ' ',')" \
    --warmup-ms "$WARMUP_MS" --rep-ms "$REP_MS" --json "$RESULTS/baseline.jsonl" 2>&1 |
    tee "$RESULTS/baseline.log"
  rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || { echo "run.sh: baseline.py exited $rc"; status=1; }
fi

echo "== report"
shopt -s nullglob
tlc_files=("$RESULTS"/tlc_*.jsonl)
base_files=("$RESULTS"/baseline.jsonl*)
python3 "$REPORT" --tlc "${tlc_files[@]}" --baseline "${base_files[@]}" \
  ${SHAPES_FILE:+--shapes "$SHAPES_FILE"} >"$RESULTS/perf_table.md"
cat "$RESULTS/perf_table.md"
exit $status
