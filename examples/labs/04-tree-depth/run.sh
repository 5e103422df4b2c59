#!/usr/bin/env bash
# Lab 4: tree depth and small-message latency. 8-byte to 4 KiB all-reduce on 64
# ranks, on one switch (star: a tree of one level) and on a leaf-spine (two levels).
set -euo pipefail
source "$(dirname "$0")/../lab_env.sh"
for topo in star leaf-spine; do
  "$INCA" bench --topology "$topo" -b 8 -e 4K -f 8 --algos innet,ring,recursive_doubling \
    --format json > "$OUT/$topo.json"
  "$INCA" report "$OUT/$topo.html" --from "$OUT/$topo.json" --topology "$topo" 2>/dev/null
done
echo "wrote $OUT/star.json, $OUT/leaf-spine.json and a report page for each"
