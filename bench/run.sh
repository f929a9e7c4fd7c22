#!/usr/bin/env bash
# bench/run.sh BUNDLE: runs the GEMM and attention benchmarks on the GPU machine.
#
# BUNDLE holds
#   bin/tlc_gemm_bench, bin/tlc_attn_bench
#   kernels/gemm_bf16*.manifest.json (+ .ptx/.cubin)            every bf16 variant is timed
#   kernels/gemm_fp8_blockscaled*.manifest.json (+ .ptx/.cubin) every fp8 variant is timed
#   kernels/flash_attn_fwd*.manifest.json (+ .ptx/.cubin)       attention: one variant per D and
#                                                               causal flag; each shape runs on
#                                                               the variants that match it
#   bench/gemm/{baseline,report}.py, bench/gemm/shapes.txt,
#   bench/attention/{baseline,report}.py, bench/attention/shapes.txt
#                                      (each falls back to the copy beside this script)
#   lib/ (optional): shared libraries the binaries need (e.g. libfmt.so.9), put on LD_LIBRARY_PATH
#
# For every shape it runs each tlc variant and the torch baselines (cuBLAS bf16, cuBLASLt FP8
# blockwise; SDPA with the flash and the cuDNN backend for attention) in this one run, then
# prints the report.py markdown tables (best variant per shape). Files go to $OUT/bench (or
# ./bench-results when OUT is unset): tlc_<variant>.jsonl, baseline.jsonl, attn_tlc.jsonl,
# attn_baseline.jsonl, *.log, perf_table.md, env.txt.
#
# Without attention kernels in the bundle (gpu-check.sh bundle skips them while tlc cannot
# compile examples/flash_attn_fwd.tl for the GPU) the attention part says so and still runs the
# torch baselines; that is not an error.
#
# Environment: BENCH_SHAPES ("M,N,K;..." instead of bench/gemm/shapes.txt), BENCH_ATTN_SHAPES
# ("B,H,S,D,causal;..." instead of bench/attention/shapes.txt), BENCH_WARMUP_MS (100),
# BENCH_REP_MS (300), BENCH_KINDS ("bf16 fp8 attn"), BENCH_SKIP_BASELINE=1, BENCH_KERNEL_DIR
# (default BUNDLE/kernels; gpu-check.sh points it at kernels_sm100a on a Blackwell GPU).
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
KINDS="${BENCH_KINDS:-bf16 fp8 attn}"
KDIR="${BENCH_KERNEL_DIR:-$BUNDLE/kernels}"

pick() { # pick SUBDIR FILE: first existing of $BUNDLE/bench/SUBDIR/FILE, $HERE/SUBDIR/FILE
  for f in "$BUNDLE/bench/$1/$2" "$HERE/$1/$2"; do
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  echo "run.sh: $2 not found in $BUNDLE/bench/$1 or $HERE/$1" >&2
  return 1
}
# shapes FILE: the shapes of a shapes.txt joined with ';' (comments and blanks dropped).
shapes() { sed -e 's/#.*//' "$1" | tr -d ' \t\r' | grep -v '^$' | paste -sd ';' -; }

gemm_kinds=""
attn=0
for kind in $KINDS; do
  case "$kind" in
    bf16|fp8) gemm_kinds="$gemm_kinds $kind" ;;
    attn) attn=1 ;;
    *) echo "run.sh: unknown kind $kind (bf16, fp8, attn)" >&2; exit 2 ;;
  esac
done

if [ -n "$gemm_kinds" ]; then
  BIN="${TLC_GEMM_BENCH:-$BUNDLE/bin/tlc_gemm_bench}"
  BASELINE="$(pick gemm baseline.py)" || exit 2
  REPORT="$(pick gemm report.py)" || exit 2
  SHAPES_FILE="$(pick gemm shapes.txt)" || SHAPES_FILE=""
  if [ -n "${BENCH_SHAPES:-}" ]; then
    SHAPES="$BENCH_SHAPES"
  elif [ -n "$SHAPES_FILE" ]; then
    SHAPES="$(shapes "$SHAPES_FILE")"
  else
    echo "run.sh: no GEMM shapes (bench/gemm/shapes.txt missing and BENCH_SHAPES unset)" >&2
    exit 2
  fi
fi
if [ "$attn" = 1 ]; then
  ATTN_BIN="${TLC_ATTN_BENCH:-$BUNDLE/bin/tlc_attn_bench}"
  ATTN_BASELINE="$(pick attention baseline.py)" || exit 2
  ATTN_REPORT="$(pick attention report.py)" || exit 2
  ATTN_SHAPES_FILE="$(pick attention shapes.txt)" || ATTN_SHAPES_FILE=""
  if [ -n "${BENCH_ATTN_SHAPES:-}" ]; then
    ATTN_SHAPES="$BENCH_ATTN_SHAPES"
  elif [ -n "$ATTN_SHAPES_FILE" ]; then
    ATTN_SHAPES="$(shapes "$ATTN_SHAPES_FILE")"
  else
    echo "run.sh: no attention shapes (bench/attention/shapes.txt missing and BENCH_ATTN_SHAPES unset)" >&2
    exit 2
  fi
fi
[ -d "$BUNDLE/lib" ] && export LD_LIBRARY_PATH="$BUNDLE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,compute_cap --format=csv,noheader 2>&1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())' 2>&1
  echo "warmup_ms $WARMUP_MS rep_ms $REP_MS kinds $KINDS kernels $KDIR"
  [ -n "$gemm_kinds" ] && echo "shapes $SHAPES"
  [ "$attn" = 1 ] && echo "attention shapes $ATTN_SHAPES"
} >"$RESULTS/env.txt"
cat "$RESULTS/env.txt"

status=0
: >"$RESULTS/perf_table.md"

# GEMMs ----------------------------------------------------------------------
if [ -n "$gemm_kinds" ]; then
  if [ ! -x "$BIN" ]; then
    echo "run.sh: $BIN is missing or not executable" >&2
    status=1
  else
    for kind in $gemm_kinds; do
      case "$kind" in
        bf16) pattern="gemm_bf16*.manifest.json" ;;
        fp8) pattern="gemm_fp8_blockscaled*.manifest.json" ;;
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
    echo "== torch GEMM baselines"
    python3 "$BASELINE" --shapes "$SHAPES" --kinds "$(echo $gemm_kinds | tr ' ' ',')" \
      --warmup-ms "$WARMUP_MS" --rep-ms "$REP_MS" --json "$RESULTS/baseline.jsonl" 2>&1 |
      tee "$RESULTS/baseline.log"
    rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || { echo "run.sh: baseline.py exited $rc"; status=1; }
  fi

  shopt -s nullglob
  tlc_files=("$RESULTS"/tlc_*.jsonl)
  base_files=("$RESULTS"/baseline.jsonl*)
  shopt -u nullglob
  python3 "$REPORT" --tlc "${tlc_files[@]}" --baseline "${base_files[@]}" \
    ${SHAPES_FILE:+--shapes "$SHAPES_FILE"} >>"$RESULTS/perf_table.md"
fi

# Attention ------------------------------------------------------------------
if [ "$attn" = 1 ]; then
  manifests=()
  for m in "$KDIR"/flash_attn_fwd*.manifest.json; do
    [ -f "$m" ] && manifests+=(--manifest "$m")
  done
  rm -f "$RESULTS/attn_tlc.jsonl"
  if [ ${#manifests[@]} -eq 0 ]; then
    echo "== tlc attention: no $KDIR/flash_attn_fwd*.manifest.json in the bundle (tlc could not" \
      "compile examples/flash_attn_fwd.tl for the GPU when it was made: see compile-times.txt);" \
      "torch baselines only" | tee "$RESULTS/attn_tlc.log"
  elif [ ! -x "$ATTN_BIN" ]; then
    echo "run.sh: $ATTN_BIN is missing or not executable" >&2
    status=1
  else
    echo "== tlc attention ($(( ${#manifests[@]} / 2 )) variants)"
    "$ATTN_BIN" "${manifests[@]}" --shapes "$ATTN_SHAPES" --warmup-ms "$WARMUP_MS" \
      --rep-ms "$REP_MS" --json "$RESULTS/attn_tlc.jsonl" 2>&1 | tee "$RESULTS/attn_tlc.log"
    rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || { echo "run.sh: tlc_attn_bench exited $rc"; status=1; }
  fi

  if [ "${BENCH_SKIP_BASELINE:-0}" != 1 ]; then
    echo "== torch SDPA baselines (flash, cuDNN)"
    python3 "$ATTN_BASELINE" --shapes "$ATTN_SHAPES" --warmup-ms "$WARMUP_MS" --rep-ms "$REP_MS" \
      --json "$RESULTS/attn_baseline.jsonl" 2>&1 | tee "$RESULTS/attn_baseline.log"
    rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || { echo "run.sh: attention baseline.py exited $rc"; status=1; }
  fi

  attn_tlc=() attn_base=()
  [ -f "$RESULTS/attn_tlc.jsonl" ] && attn_tlc=("$RESULTS/attn_tlc.jsonl")
  [ -f "$RESULTS/attn_baseline.jsonl" ] && attn_base=("$RESULTS/attn_baseline.jsonl")
  [ -s "$RESULTS/perf_table.md" ] && echo >>"$RESULTS/perf_table.md"
  python3 "$ATTN_REPORT" --tlc "${attn_tlc[@]}" --baseline "${attn_base[@]}" \
    ${ATTN_SHAPES_FILE:+--shapes "$ATTN_SHAPES_FILE"} >>"$RESULTS/perf_table.md"
fi

echo "== report"
cat "$RESULTS/perf_table.md"
exit $status
