#!/usr/bin/env bash
# Lab 2: 1% packet loss, in-network against ring, 16 ranks, 1 MiB; once clean, once lossy.
set -euo pipefail
source "$(dirname "$0")/../lab_env.sh"
"$INCA" bench --ranks 16 -b 1M -e 1M --algos innet,ring --stats --format json > "$OUT/clean.json"
"$INCA" bench --ranks 16 -b 1M -e 1M --algos innet,ring --stats --format json \
  --drop 0.01 --seed 1 --trace "$OUT/lossy-timeline.json" > "$OUT/lossy.json"
echo "wrote $OUT/clean.json, $OUT/lossy.json and $OUT/lossy-timeline.json"
