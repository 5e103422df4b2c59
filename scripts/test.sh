#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: the release build, then
# the ASan+UBSan and TSan builds (skip those with INCA_SANITIZERS=0).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh release
ctest --preset release
build/bin/example_allreduce >/dev/null
if [ "${INCA_SANITIZERS:-1}" != 0 ]; then
  for preset in asan tsan; do
    echo "== $preset =="
    scripts/setup.sh "$preset"
    ctest --preset "$preset"
  done
fi
