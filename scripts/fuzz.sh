#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan, the whole
# tree instrumented) in build-fuzz/ and runs each for SECONDS (default 30).
# A crash leaves its input in build-fuzz/crashes/ and fails the script; turn
# it into a regression test in tests/fuzz_regression_test.cpp.
#   scripts/fuzz.sh [SECONDS] [TARGET...]    targets: wire_decode engine endpoint switch_frame fabric_file
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-30}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(wire_decode engine endpoint switch_frame fabric_file)
JOBS=${INCA_JOBS:-2}

if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found; skipping the fuzzers" >&2
  exit 0
fi
flags="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DINCA_BUILD_FUZZERS=ON -DINCA_BUILD_BENCH=OFF -DINCA_BUILD_PYTHON=OFF -DINCA_WERROR=OFF \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags -DBOOST_USE_ASAN -DBOOST_USE_UCONTEXT" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build build-fuzz -j"$JOBS" --target "${TARGETS[@]/#/fuzz_}"

mkdir -p build-fuzz/crashes
for t in "${TARGETS[@]}"; do
  corpus=build-fuzz/corpus/$t
  mkdir -p "$corpus"
  # Fabric files start from the presets and examples, so mutations stay near YAML that loads.
  [ "$t" != fabric_file ] || cp presets/*.yaml examples/fabrics/*.yaml "$corpus"/
  echo "== fuzz_$t: ${SECONDS_PER_TARGET} s =="
  build-fuzz/bin/fuzz_"$t" "$corpus" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
    -artifact_prefix=build-fuzz/crashes/"$t"- -max_len=4096 2>&1 |
    grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|==[0-9]+==ERROR|invariant|SUMMARY|#[0-9]+ +DONE)" || true
  if ls build-fuzz/crashes/"$t"-* >/dev/null 2>&1; then
    echo "fuzz_$t: crash inputs in build-fuzz/crashes/" >&2
    exit 1
  fi
done
