#!/usr/bin/env bash
# Develop one V4 kernel without touching the shared build: compiles every
# tlv4_test_kernel() variant listed in <name>.cmake for the CPU target, the
# default build for sm_90a and sm_100a (ptxas; NO_PTX=1 skips it), builds
# <name>_test.cpp against libtlv4 + libtlrt and runs it. Tools come from
# $TLC_BIN (default build/bin), libraries from $TLC_LIB (default build/lib);
# outputs go to $V4_OUT (/tmp/v4kernels/<name>).
#   test/models/deepseek_v4/dev.sh <name> [gtest args...]
set -euo pipefail
name=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
v4lib=$(find "${TLC_LIB:-$root/build/lib}" "$root/build" -name libtlv4.a 2>/dev/null | head -1)
exec "$root/scripts/dev-kernel-test.sh" "$here" "$root/models/deepseek_v4/kernels" \
  tlv4_test_kernel v4kernels TLV4_TEST_KERNEL_DIR "${V4_OUT:-/tmp/v4kernels/$name}" "$name" \
  -I "$root/models/deepseek_v4/include" "$v4lib" -- "$@"
