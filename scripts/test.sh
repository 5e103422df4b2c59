#!/usr/bin/env bash
# Sets everything up and runs the test suite on the release build. With
# INCA_SANITIZERS=1 it then builds and runs the ASan+UBSan and TSan presets too
# (about 25 more minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh release
ctest --preset release
build/bin/example_allreduce >/dev/null
if [ "${INCA_SANITIZERS:-0}" != 0 ]; then
  for preset in asan tsan; do
    echo "== $preset =="
    scripts/setup.sh "$preset"
    ctest --preset "$preset"
  done
fi
