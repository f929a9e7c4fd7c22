#!/bin/bash
# `tl-v4 bench` on a lent GPU at V4-Flash's real layer shapes (docs/perf.md, issue 14):
#   bash scripts/v4-bench.sh bundle        # here: tl-v4 and the flash kernel set -> .gpu-v4-bench/
#   bash scripts/v4-bench.sh run [LAYERS] [BENCH ARGS...]   # there (device tool: carry
#                                          # [".gpu-v4-bench"]): writes a random checkpoint of
#                                          # the first LAYERS layers (default 4) with
#                                          # make-tiny --fast-codes, then runs the bench.
#   bash scripts/v4-bench.sh variants [LAYERS] [BENCH ARGS...]  # there: the same bench once per
#                                          # expert GEMM build in .gpu-v4-bench/variants (made by
#                                          # `bundle`: the flash set with both expert modules
#                                          # rebuilt at another tile shape), one table row each.
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
  # Expert GEMM tile shapes to compare (docs/perf.md): the flash set with `expert` and
  # `expert_dec` both rebuilt as NAME's tiles, so prefill and decode both run that build. The
  # plan (plan.txt) is unchanged: the modules keep their names and signatures.
  ekd="$(awk '$1 == "expert" {print $3, $4, $5}' "$bundle/flash/plan.txt")"
  for v in 128x128:"BM=128 BN=128" 128x64:"BM=128 BN=64" 128x32:"BM=128 BN=32" \
           64x64:"BM=64 BN=64" 64x32:"BM=64 BN=32"; do
    name="${v%%:*}"
    dir="$bundle/variants/$name"
    mkdir -p "$dir"
    cp "$bundle/flash/plan.txt" "$dir/"
    cp -r "$bundle/flash/sm_90a" "$dir/"
    defs=""
    for kv in $ekd ${v#*:}; do defs="$defs -D $kv"; done
    for module in expert expert_dec; do
      "$build/bin/tlc" "$root/models/deepseek_v4/kernels/expert.tl" --target sm_90a --emit ptx \
        $defs -o "$dir/sm_90a/$module.ptx"
    done
  done
  for lib in $(ldd "$bundle/bin/tl-v4" | awk '/=>/ {print $3}' | grep -E "libfmt" | sort -u); do
    cp -L "$lib" "$bundle/lib/"
  done
  du -sh "$bundle"
  ;;
run | variants)
  # Both: the GPU's name, then a random checkpoint of the first LAYERS layers (kept in /tmp
  # while the machine stays up).
  what="$1"
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
  if [ "$what" = variants ]; then
    for dir in "$bundle"/variants/*; do
      name="$(basename "$dir")"
      echo "== expert tiles $name"
      timeout "${BENCH_TIMEOUT:-120}" "$bundle/bin/tl-v4" bench --checkpoint "$ck" --kernels "$dir" \
        "$@" > "$out/variant-$name.md" 2> "$out/variant-$name.err"
      grep -E '^\| [0-9]' "$out/variant-$name.md" || tail -3 "$out/variant-$name.err"
    done
    exit 0
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
  echo "usage: scripts/v4-bench.sh bundle | run [LAYERS] [BENCH ARGS...] | variants [LAYERS] [BENCH ARGS...]" >&2
  exit 2
  ;;
esac
