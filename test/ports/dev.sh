#!/usr/bin/env bash
# Develop one port without touching the shared build: compiles every
# tlc_port_kernel() variant listed in <name>.cmake for the CPU target, the
# default variant for sm_90a and sm_100a (ptxas), builds <name>_test.cpp
# against libtlrt and runs it. Tools come from $TLC_BIN (default build/bin)
# and $TLC_LIB (default build/lib); outputs go to $PORT_OUT (/tmp/ports/<name>).
#   test/ports/dev.sh <name> [gtest args...]
set -euo pipefail
name=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${TLC_BIN:-$root/build/bin}
lib=${TLC_LIB:-$root/build/lib}
out=${PORT_OUT:-/tmp/ports/$name}
ptxas=${PTXAS:-/usr/local/cuda/bin/ptxas}
mkdir -p "$out"

# Each variant: tlc_port_kernel(<module> ${ports}/<file>.tl [NAME=VALUE|--flag ...])
grep -E '^\s*tlc_port_kernel\(' "$here/$name.cmake" | while read -r line; do
  args=$(sed -E 's/^\s*tlc_port_kernel\((.*)\)\s*$/\1/' <<<"$line")
  read -r -a words <<<"$args"
  module=${words[0]}
  src=${words[1]/\$\{ports\}/$here/kernels}
  flags=()
  for w in "${words[@]:2}"; do
    if [[ $w == --* ]]; then flags+=("$w"); else flags+=(-D "$w"); fi
  done
  echo "== cpu $module"
  "$bin/tlc" "$src" --target cpu --emit so "${flags[@]}" -o "$out/$module.so"
done

src=$here/kernels/$name.tl
for arch in sm_90a sm_100a; do
  echo "== $arch $name"
  "$bin/tlc" "$src" --target=$arch --emit=ptx -o "$out/$name.$arch.ptx"
  "$ptxas" -arch=$arch "$out/$name.$arch.ptx" -o "$out/$name.$arch.cubin"
done

echo "== test $name"
g++ -std=c++20 -O1 -g -I "$root/runtime/include" -I "$here" \
  -DTLC_PORT_KERNEL_DIR="\"$out\"" "$here/${name}_test.cpp" \
  "$lib/libtlrt.a" -lfmt -lgtest -lgtest_main -ldl -lpthread -o "$out/${name}_test"
"$out/${name}_test" "$@"
