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
exec "$root/scripts/dev-kernel-test.sh" "$here" "$here/kernels" tlc_port_kernel ports \
  TLC_PORT_KERNEL_DIR "${PORT_OUT:-/tmp/ports/$name}" "$name" "$@"
