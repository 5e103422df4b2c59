#!/usr/bin/env bash
# Lab 1: the bandwidth doubling. In-network against ring all-reduce on 16 ranks, 1 KiB .. 16 MiB.
set -euo pipefail
source "$(dirname "$0")/../lab_env.sh"
"$INCA" bench --ranks 16 -b 1K -e 16M -f 4 --algos innet,ring \
  --format json --plot "$OUT/doubling.svg" > "$OUT/rows.json"
echo "wrote $OUT/rows.json and $OUT/doubling.svg"
