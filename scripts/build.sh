#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build tlc, and run the
# main job: compile every bundled example kernel into build/examples/ — the
# tl dialect (.mlir), sm_90a PTX with its manifest (.ptx, .manifest.json),
# sm_100a PTX (sm100a_<name>.ptx + manifest: the same pass pipeline, tcgen05
# and tensor memory for the GEMMs and attention, never executed here, see
# docs/blackwell.md; assembled by ptxas -arch=sm_100a when the CUDA toolkit
# is there) and a CPU shared object (cpu_<name>.so + manifest). The CPU
# target runs a kernel's sm_100a code (T.arch, tlc --arch); examples with
# per-architecture code also get cpu_sm_90a_<name>.so, the sm_90a code on
# the CPU.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
tlc_install_packages
tlc_build

out="$BUILD_DIR/examples"
mkdir -p "$out"
status=0
for f in "$TLC_ROOT"/examples/*.tl; do
  name="$(basename "$f" .tl)"
  tlc="$BUILD_DIR/bin/tlc"
  gpu=1
  ptxas="${PTXAS:-/usr/local/cuda/bin/ptxas}"
  if "$tlc" "$f" --emit=tl -o "$out/$name.mlir" &&
     { [ $gpu = 0 ] ||
       { "$tlc" "$f" --target=sm_90a --emit=ptx -o "$out/$name.ptx" &&
         "$tlc" "$f" --target=sm_100a --emit=ptx -o "$out/sm100a_$name.ptx" &&
         { [ ! -x "$ptxas" ] ||
           "$ptxas" -arch=sm_100a "$out/sm100a_$name.ptx" -o "$out/sm100a_$name.cubin"; }; }; } &&
     "$tlc" "$f" --target=cpu --emit=so -o "$out/cpu_$name.so" &&
     { ! grep -q "T\.arch" "$f" ||
       "$tlc" "$f" --target=cpu --arch=sm_90a --emit=so -o "$out/cpu_sm_90a_$name.so"; }; then
    extra=""
    grep -q "T\.arch" "$f" && extra=", cpu_sm_90a_$name.so"
    if [ $gpu = 1 ]; then
      echo "compiled examples/$name.tl -> ${out#$TLC_ROOT/}/$name.{mlir,ptx,manifest.json}, sm100a_$name.ptx, cpu_$name.so$extra"
    else
      echo "compiled examples/$name.tl -> ${out#$TLC_ROOT/}/$name.mlir, cpu_$name.so (no PTX yet)"
    fi
  else
    echo "FAILED: examples/$name.tl"
    status=1
  fi
done
exit $status
