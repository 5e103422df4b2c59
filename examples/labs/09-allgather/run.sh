#!/usr/bin/env bash
# Lab 9: what an in-network all-gather saves. 64 ranks gather blocks of
# 256 B to 64 KiB (16 KiB to 4 MiB in all) with innet, ring and Bruck's
# algorithm; counters after the table.
set -euo pipefail
source "$(dirname "$0")/../lab_env.sh"
"$INCA" bench --collective allgather --algos innet,ring,bruck -b 16K -e 4M -f 16 \
  --payload off --stats --format json > "$OUT/allgather.json" 2>/dev/null
"$INCA" bench --collective allgather --algos innet,ring,bruck -b 16K -e 4M -f 16 \
  --payload off --stats > "$OUT/allgather.txt" 2>&1
echo "wrote $OUT/allgather.{json,txt}"
