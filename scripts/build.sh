#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build tlc, and run the
# main job: compile every bundled example kernel (to the tl dialect today;
# to PTX once the GPU targets land) into build/examples/.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
tlc_install_packages
tlc_build

out="$BUILD_DIR/examples"
mkdir -p "$out"
status=0
for f in "$TLC_ROOT"/examples/*.tl; do
  name="$(basename "$f" .tl)"
  if "$BUILD_DIR/bin/tlc" "$f" --emit=tl -o "$out/$name.mlir"; then
    echo "compiled examples/$name.tl -> ${out#$TLC_ROOT/}/$name.mlir"
  else
    echo "FAILED: examples/$name.tl"
    status=1
  fi
done
exit $status
