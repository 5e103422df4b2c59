#!/usr/bin/env bash
# Lab 6: real packets. Four rank processes on the kernel-UDP fabric (network
# namespaces, one inca-switch) run a 64 KiB in-network and ring all-reduce; the
# switch captures every port, and tshark decodes the capture with inca's
# Wireshark dissector. Needs root, inca-switch (DPDK) and tshark.
set -euo pipefail
source "$(dirname "$0")/../lab_env.sh"
RANK_PROGRAM="${RANK_PROGRAM:-$(dirname "$INCA")/example_udp_allreduce}"
"$INCA" launch -n 4 --pcap "$OUT" -- "$RANK_PROGRAM" 0.0625 1
tshark -X lua_script:"$ROOT/tools/wireshark/inca.lua" -r "$OUT/switch0.pcapng" \
  -Y "inca.type == 1 || inca.type == 2" \
  -T fields -e frame.interface_id -e frame.packet_flags_direction -e inca.type -e inca.tree \
  -e inca.sequence -e inca.child -e inca.slot 2>/dev/null > "$OUT/frames.tsv"
echo "wrote $OUT/switch0.pcapng and $OUT/frames.tsv ($(wc -l < "$OUT/frames.tsv") aggregation frames)"
