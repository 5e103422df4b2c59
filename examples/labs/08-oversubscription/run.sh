#!/usr/bin/env bash
# Lab 8: oversubscription, and which all-reduce feels it. The same 64 hosts
# described twice in fabric files, non-blocking and 4:1 oversubscribed; a 4 MiB
# all-reduce with innet, ring, Rabenseifner and recursive doubling on each.
set -euo pipefail
source "$(dirname "$0")/../lab_env.sh"
HERE="$(dirname "$0")"
for fabric in non-blocking oversubscribed; do
  "$INCA" describe "$HERE/$fabric.yaml" > "$OUT/$fabric.txt" 2>&1
  "$INCA" bench --fabric-file "$HERE/$fabric.yaml" -b 4M -e 4M \
    --algos innet,ring,rabenseifner,recursive_doubling --payload off --format json \
    > "$OUT/$fabric.json" 2>/dev/null
done
echo "wrote $OUT/{non-blocking,oversubscribed}.{txt,json}"
