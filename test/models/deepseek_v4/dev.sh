#!/usr/bin/env bash
# Develop one V4 kernel without touching the shared build: compiles every
# tlv4_test_kernel() variant listed in <name>.cmake for the CPU target, the
# default build for sm_90a and sm_100a (ptxas), builds <name>_test.cpp against
# libtlv4 + libtlrt and runs it. Tools come from $TLC_BIN (default
# build/bin), libraries from $TLC_LIB (default build/lib, plus
# build/models/deepseek_v4 for libtlv4); outputs go to $V4_OUT
# (/tmp/v4kernels/<name>).
#   test/models/deepseek_v4/dev.sh <name> [gtest args...]
# NO_PTX=1 skips the PTX half.
set -euo pipefail
name=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
kernels=$root/models/deepseek_v4/kernels
bin=${TLC_BIN:-$root/build/bin}
lib=${TLC_LIB:-$root/build/lib}
out=${V4_OUT:-/tmp/v4kernels/$name}
ptxas=${PTXAS:-/usr/local/cuda/bin/ptxas}
mkdir -p "$out"

grep -E '^\s*tlv4_test_kernel\(' "$here/$name.cmake" | while read -r line; do
  args=$(sed -E 's/^\s*tlv4_test_kernel\((.*)\)\s*$/\1/' <<<"$line")
  read -r -a words <<<"$args"
  module=${words[0]}
  src=${words[1]/\$\{v4kernels\}/$kernels}
  flags=()
  for w in "${words[@]:2}"; do
    if [[ $w == --* ]]; then flags+=("$w"); else flags+=(-D "$w"); fi
  done
  echo "== cpu $module"
  "$bin/tlc" "$src" --target cpu --emit so "${flags[@]}" -o "$out/$module.so"
done

if [ -z "${NO_PTX:-}" ]; then
  src=$kernels/$name.tl
  for arch in sm_90a sm_100a; do
    echo "== $arch $name"
    "$bin/tlc" "$src" --target=$arch --emit=ptx -o "$out/$name.$arch.ptx"
    "$ptxas" -arch=$arch "$out/$name.$arch.ptx" -o "$out/$name.$arch.cubin"
  done
fi

echo "== test $name"
v4lib=$(find "$root/build" -name libtlv4.a | head -1)
g++ -std=c++20 -O1 -g -I "$root/runtime/include" -I "$root/models/deepseek_v4/include" -I "$here" \
  -DTLV4_TEST_KERNEL_DIR="\"$out\"" "$here/${name}_test.cpp" \
  "$v4lib" "$lib/libtlrt.a" -lfmt -lgtest -lgtest_main -ldl -lpthread -o "$out/${name}_test"
"$out/${name}_test" "$@"
