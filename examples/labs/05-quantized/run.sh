#!/usr/bin/env bash
# Lab 5: quantised (block floating point) aggregation for switches that only
# add integers, and its error, on 4, 16 and 64 ranks.
set -euo pipefail
source "$(dirname "$0")/../lab_env.sh"
for n in 4 16 64; do
  "$INCA" bench --ranks "$n" -b 256K -e 256K --algos innet --quantized --format json > "$OUT/ranks$n.json"
done
grep -h '"note"' "$OUT"/ranks*.json
