#!/usr/bin/env bash
# Lab 3: slots, the window and the bandwidth-delay product. A 2 MiB in-network
# all-reduce on the default 64-rank leaf-spine with 1 .. 64 slots in flight.
set -euo pipefail
source "$(dirname "$0")/../lab_env.sh"
: > "$OUT/window.csv"
echo "window,time_us,algbw_GBps,model_us" > "$OUT/window.csv"
for w in 1 2 4 8 12 16 24 32 64; do
  "$INCA" bench -b 2M -e 2M --algos innet --payload off --window "$w" --format csv |
    awk -F, -v w="$w" 'NR == 2 { print w "," $7 "," $8 "," $11 }' >> "$OUT/window.csv"
done
cat "$OUT/window.csv"
