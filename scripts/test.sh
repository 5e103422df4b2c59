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
  # One process per shard rather than ctest's one per test: a sanitized
  # process takes about a second to start (scripts/gtest_shards.sh).
  for preset in asan tsan; do
    echo "== $preset =="
    scripts/setup.sh "$preset" inca_tests
    TSAN_OPTIONS="suppressions=$PWD/tools/sanitizers/tsan.supp" scripts/gtest_shards.sh "build-$preset" 2
  done
fi
if [ "${INCA_FUZZ_SECONDS:-10}" != 0 ]; then
  echo "== fuzz =="
  scripts/fuzz.sh "${INCA_FUZZ_SECONDS:-10}"
fi
