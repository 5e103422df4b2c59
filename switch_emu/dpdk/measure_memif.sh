#!/bin/bash
# Measures inca-switch over memif on one machine: starts the switch with N
# memif server ports, runs inca-loadgen (N memif clients) for the phases of
# MODE (both: forwarding and aggregation over UDP; agg-roce: aggregation over
# UDP and over RoCEv2; all: the three), prints the rates and their ratios,
# then stops the switch and removes what it created.
#
#   switch_emu/dpdk/measure_memif.sh [BIN_DIR] [PORTS] [PAYLOAD_BYTES] [WINDOW] [SECONDS] [MODE]
#   switch_emu/dpdk/measure_memif.sh build/bin 4 1024 1000 3
#   switch_emu/dpdk/measure_memif.sh build/bin 4 1024 1000 3 agg-roce
#
# The switch runs on lcore 0 and the load generator on lcore 1; both use
# --no-huge. Extra switch arguments can be passed in SWITCH_ARGS.
set -euo pipefail
BIN=${1:-build/bin}
PORTS=${2:-4}
PAYLOAD=${3:-1024}
WINDOW=${4:-1000}
SECONDS_PER_PHASE=${5:-3}
MODE=${6:-both}
DIR=$(mktemp -d /tmp/inca-measure-XXXXXX)
PREFIX=inca-measure-$$
server=()
client=()
for ((i = 0; i < PORTS; i++)); do
  server+=("--vdev=net_memif$i,role=server,socket=$DIR/m$i.sock,socket-abstract=no")
  client+=("--vdev=net_memif$i,role=client,socket=$DIR/m$i.sock,socket-abstract=no")
done

"$BIN/inca-switch" -l 0 --no-huge -m 512 --no-pci --file-prefix "$PREFIX-sw" \
  --log-level=lib.eal:warning "${server[@]}" -- --name measure --control 127.0.0.1:0 \
  --slots 4096 --slot-bytes 2048 ${SWITCH_ARGS:-} >"$DIR/switch.log" 2>&1 &
switch_pid=$!
cleanup() {
  kill -TERM "$switch_pid" 2>/dev/null || true
  wait "$switch_pid" 2>/dev/null || true
  rm -rf "$DIR" "/var/run/dpdk/$PREFIX-sw" "/var/run/dpdk/$PREFIX-lg"
}
trap cleanup EXIT
for _ in $(seq 100); do grep -q "measure: ready" "$DIR/switch.log" && break; sleep 0.1; done
port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$DIR/switch.log" | cut -d: -f2)
[ -n "$port" ] || { cat "$DIR/switch.log"; exit 1; }

"$BIN/inca-loadgen" -l 1 --no-huge -m 512 --no-pci --file-prefix "$PREFIX-lg" \
  --log-level=lib.eal:warning "${client[@]}" -- --control "127.0.0.1:$port" \
  --seconds "$SECONDS_PER_PHASE" --payload-bytes "$PAYLOAD" --window "$WINDOW" --mode "$MODE" 2>&1 |
  grep -v -E '^(EAL|TELEMETRY)'
kill -USR1 "$switch_pid"
sleep 0.3
grep -E '^(engine|roce|loop):' "$DIR/switch.log" | tail -3
