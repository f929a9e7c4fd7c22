# Shared set-up for scripts/build.sh and scripts/test.sh: installs what is
# missing on a Debian 12 machine and configures + builds the tree.
set -euo pipefail

TLC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${TLC_BUILD_DIR:-$TLC_ROOT/build}"
JOBS="${TLC_JOBS:-$(nproc)}"

TLC_PACKAGES=(cmake ninja-build g++ python3
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  libfmt-dev libcli11-dev nlohmann-json3-dev googletest libgtest-dev
  clang-14 libclang-rt-14-dev)

tlc_install_packages() {
  local missing=()
  for p in "${TLC_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "== installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

tlc_build() {
  echo "== configuring $BUILD_DIR"
  mkdir -p "$BUILD_DIR"
  cmake -S "$TLC_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir >"$BUILD_DIR/configure.log" 2>&1 \
    || { cat "$BUILD_DIR/configure.log"; return 1; }
  echo "== building with $JOBS jobs"
  ninja -C "$BUILD_DIR" -j "$JOBS"
}
