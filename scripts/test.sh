#!/usr/bin/env bash
# Sets everything up and passes the tests: the GoogleTest suite on the
# release build, again under ASan+UBSan, and its threaded units under TSan
# (the sanitizer builds compile only the test binary and the processes it
# starts), then a short bounded run of each libFuzzer target.
# INCA_SANITIZERS=0 skips the sanitizer builds, INCA_FUZZ_SECONDS=0 the
# fuzzers (default 10 s each).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh release
ctest --preset release
build/bin/example_allreduce >/dev/null
if [ "${INCA_SANITIZERS:-1}" != 0 ]; then
  for preset in asan tsan; do
    echo "== $preset =="
    scripts/setup.sh "$preset" inca_tests
    ctest --preset "$preset"
  done
fi
if [ "${INCA_FUZZ_SECONDS:-10}" != 0 ]; then
  echo "== fuzz =="
  scripts/fuzz.sh "${INCA_FUZZ_SECONDS:-10}"
fi
