#!/usr/bin/env bash
# Installs the Debian 12 packages inca needs (only those missing), then configures
# and builds the chosen CMake preset (all targets, or the ones named).
# Usage: scripts/setup.sh [preset [target...]]  (default: release, everything)
# ccache, when installed, makes rebuilds of unchanged sources instant.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git clang lld libclang-rt-14-dev clang-format
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev libboost-context-dev
  libcli11-dev libyaml-cpp-dev nlohmann-json3-dev libfmt-dev libspdlog-dev zlib1g-dev
  dpdk dpdk-dev libdpdk-dev libibverbs-dev ibverbs-utils rdma-core
  libopenmpi-dev openmpi-bin
  tshark graphviz iproute2 procps python3-scapy
  python3-matplotlib chromium
  pybind11-dev python3-pybind11 python3-numpy python3-pytest python3-pandas python3-torch
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; the answer is irrelevant here.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

preset="${1:-release}"
shift || true
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake --preset "$preset" "${launcher[@]}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build --preset "$preset" -j "${INCA_BUILD_JOBS:-2}" "${targets[@]}"
