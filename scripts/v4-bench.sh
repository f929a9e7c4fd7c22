#!/bin/bash
# `tl-v4 bench` on a lent GPU at V4-Flash's real layer shapes (docs/perf.md, issue 14):
#   bash scripts/v4-bench.sh bundle        # here: tl-v4 and the flash kernel set -> .gpu-v4-bench/
#   bash scripts/v4-bench.sh run [LAYERS] [BENCH ARGS...]   # there (device tool: carry
#                                          # [".gpu-v4-bench"]): writes a random checkpoint of
#                                          # the first LAYERS layers (default 4) with
#                                          # make-tiny --fast-codes, then runs the bench.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
bundle="$root/.gpu-v4-bench"
case "${1:-}" in
bundle)
  set -e
  ninja -C "$build" tl-v4 tlv4_kernelset_flash
  rm -rf "$bundle"
  mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/flash"
  cp "$build/bin/tl-v4" "$bundle/bin/"
  cp "$build/models/deepseek_v4/kernelsets/flash/plan.txt" "$bundle/flash/"
  cp -r "$build/models/deepseek_v4/kernelsets/flash/sm_90a" "$bundle/flash/"
  for lib in $(ldd "$bundle/bin/tl-v4" | awk '/=>/ {print $3}' | grep -E "libfmt" | sort -u); do
    cp -L "$lib" "$bundle/lib/"
  done
  du -sh "$bundle"
  ;;
run)
  shift
  layers="${1:-4}"
  [ $# -gt 0 ] && shift
  out="${OUT:-$bundle/out}"
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$bundle/lib:${LD_LIBRARY_PATH:-}"
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/gpu.txt"
  ck="/tmp/v4-flash-$layers"
  if [ ! -f "$ck/config.json" ]; then
    /usr/bin/time -f "make-tiny: %e s, %M KB" timeout 300 "$bundle/bin/tl-v4" make-tiny \
      --shape flash --layers "$layers" --fast-codes --no-tokenizer --out "$ck" | tail -1
  fi
  timeout "${BENCH_TIMEOUT:-420}" "$bundle/bin/tl-v4" bench --checkpoint "$ck" \
    --kernels "$bundle/flash" --json "$out/bench.jsonl" "$@" > "$out/bench.md" 2> "$out/bench.err"
  rc=$?
  cat "$out/bench.md"
  tail -5 "$out/bench.err"
  echo "bench exit $rc"
  exit $rc
  ;;
*)
  echo "usage: scripts/v4-bench.sh bundle | run [LAYERS] [BENCH ARGS...]" >&2
  exit 2
  ;;
esac
