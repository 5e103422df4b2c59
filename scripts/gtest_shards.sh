#!/usr/bin/env bash
# Runs a build's inca_tests in SHARDS processes at once (GoogleTest's own
# sharding) instead of one process per test as ctest does: under a sanitizer
# a process takes about a second to start, which over a thousand tests is most
# of the suite's time. Exits non-zero when any shard fails or runs past LIMIT
# seconds; prints each shard's totals and every skip's reason.
#   scripts/gtest_shards.sh BUILD_DIR [SHARDS] [LIMIT]
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1
shards=${2:-2}
limit=${3:-2400}
logs=$(mktemp -d)
pids=()
for ((i = 0; i < shards; i++)); do
  (cd "$build/tests" &&
    GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$i timeout "$limit" ../bin/inca_tests \
      >"$logs/$i.log" 2>&1) &
  pids+=($!)
done
status=0
for ((i = 0; i < shards; i++)); do
  if ! wait "${pids[$i]}"; then
    status=1
    echo "== shard $i of $shards failed:" >&2
    grep -E -A12 "(: Failure$|^\[  FAILED  \])" "$logs/$i.log" | head -n 200 >&2 || true
    tail -n 20 "$logs/$i.log" >&2
  fi
  # Every skip with its reason, and the shard's totals.
  grep -A1 -E ": Skipped$" "$logs/$i.log" | grep -v -E ": Skipped$|^--$" | sed "s/^/shard $i: skipped: /" || true
  grep -E "^\[  (PASSED|SKIPPED|FAILED) +\] [0-9]+ test" "$logs/$i.log" | sed "s/^/shard $i: /" || true
done
rm -rf "$logs"
exit $status
