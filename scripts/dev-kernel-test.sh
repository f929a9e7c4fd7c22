#!/usr/bin/env bash
# Develop one kernel test without touching the shared build (test/ports/dev.sh and
# test/models/deepseek_v4/dev.sh call this): compiles every variant listed in
# <testdir>/<name>.cmake for the CPU target, the default build of <kerneldir>/<name>.tl for
# sm_90a and sm_100a (ptxas; NO_PTX=1 skips it), builds <testdir>/<name>_test.cpp against
# libtlrt (and the extra libraries given) and runs it with [gtest args...].
#   dev-kernel-test.sh <testdir> <kerneldir> <macro> <dir-variable> <kernel-dir-define> \
#                      <outdir> <name> [extra link/include args --] [gtest args...]
# Tools come from $TLC_BIN (default build/bin), libraries from $TLC_LIB (default build/lib).
set -euo pipefail
testdir=$1 kerneldir=$2 macro=$3 var=$4 define=$5 out=$6 name=$7
shift 7
extra=()
if [[ " $* " == *" -- "* ]]; then
  while [ "$1" != "--" ]; do extra+=("$1"); shift; done
  shift
fi
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${TLC_BIN:-$root/build/bin}
lib=${TLC_LIB:-$root/build/lib}
ptxas=${PTXAS:-/usr/local/cuda/bin/ptxas}
mkdir -p "$out"

source "$root/scripts/variants.sh"
cpu_variant() {
  local module=$1 src=$2
  shift 2
  echo "== cpu $module"
  "$bin/tlc" "$src" --target cpu --emit so "$@" -o "$out/$module.so"
}
each_variant "$testdir/$name.cmake" "$macro" "$var" "$kerneldir" cpu_variant

if [ -z "${NO_PTX:-}" ]; then
  for arch in sm_90a sm_100a; do
    echo "== $arch $name"
    "$bin/tlc" "$kerneldir/$name.tl" --target=$arch --emit=ptx -o "$out/$name.$arch.ptx"
    "$ptxas" -arch=$arch "$out/$name.$arch.ptx" -o "$out/$name.$arch.cubin"
  done
fi

echo "== test $name"
g++ -std=c++20 -O1 -g -I "$root/runtime/include" -I "$testdir" -I "$root/test/common" \
  -D"$define"="\"$out\"" "$testdir/${name}_test.cpp" "${extra[@]}" \
  "$lib/libtlrt.a" -lfmt -lgtest -lgtest_main -ldl -lpthread -o "$out/${name}_test"
"$out/${name}_test" "$@"
