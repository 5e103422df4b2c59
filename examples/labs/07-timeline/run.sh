#!/usr/bin/env bash
# Lab 7: reading a timeline. One 256 KiB all-reduce on 8 ranks, in-network and
# ring, recorded for Perfetto.
set -euo pipefail
source "$(dirname "$0")/../lab_env.sh"
"$INCA" bench --ranks 8 --hosts-per-leaf 4 -b 256K -e 256K --algos innet,ring \
  --trace "$OUT/timeline.json" > "$OUT/table.txt"
cat "$OUT/table.txt"
echo "open $OUT/timeline.json in https://ui.perfetto.dev (Open trace file) or chrome://tracing"
