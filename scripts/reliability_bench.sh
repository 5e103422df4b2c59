#!/usr/bin/env bash
# The reliability targets of docs/reliability.md, as seeded runs of `inca bench`:
#   scripts/reliability_bench.sh loss   [RUNS]  16 MiB f32 innet on 64 ranks, 0.1/1/5% loss per link
#   scripts/reliability_bench.sh kill   [RUNS]  the root spine dies during a 64 MiB innet all-reduce
# Every run carries data and is checked bit for bit. Prints one line per run
# and a summary per setting. INCA=path/to/inca overrides the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
INCA=${INCA:-build/bin/inca}
MODE=${1:-loss}
RUNS=${2:-20}

# One run: prints "check time_us algbw_GBps retransmissions packets_sent note".
run() {
  local out
  out=$("$INCA" bench --algos innet --payload on --stats "$@" 2>&1) || true
  awk '
    $1 ~ /^[0-9]+$/ && NF >= 13 { time = $7; algbw = $8; check = $13; note = "" }
    $1 ~ /^[0-9]+$/ && NF > 13  { for (i = 14; i <= NF; ++i) note = note " " $i }
    /^# +[0-9]+ +innet:/ {
      for (i = 4; i <= NF; ++i) {
        split($i, kv, "=")
        if (kv[1] == "host_retransmissions") retx = kv[2]
        if (kv[1] == "host_packets_sent") pkts = kv[2]
      }
    }
    END { printf "%s %s %s %d %d%s\n", check, time, algbw, retx, pkts, note }' <<<"$out"
}

summary() {  # reads run lines, prints exact count, median algbw, retransmissions per 1000 packets
  local lines
  lines=$(cat)
  local bw_median t_median t_max
  bw_median=$(awk '{ print $3 }' <<<"$lines" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  t_median=$(awk '{ print $2 }' <<<"$lines" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  t_max=$(awk '{ print $2 }' <<<"$lines" | sort -g | tail -1)
  awk -v base="$1" -v med="$bw_median" -v tmed="$t_median" -v tmax="$t_max" '
    { n++; if ($1 == "exact") ok++; retx += $4; pkts += $5 }
    END {
      printf "  exact %d/%d, algbw median %.2f GB/s (x%.2f of loss-free), time median %.0f us, max %.0f us, %.1f retransmissions per 1000 packets\n",
             ok, n, med, (base > 0 ? med / base : 0), tmed, tmax, (pkts > 0 ? 1000 * retx / pkts : 0)
    }' <<<"$lines"
}

case "$MODE" in
  loss)
    base=$(run -b 16M -e 16M)
    echo "loss-free: $base"
    base_bw=$(awk '{ print $3 }' <<<"$base")
    for rate in 0.001 0.01 0.05; do
      echo "drop $rate on every link:"
      for seed in $(seq 1 "$RUNS"); do
        line=$(run -b 16M -e 16M --drop "$rate" --seed "$seed")
        echo "  seed $seed: $line" >&2
        echo "$line"
      done | summary "$base_bw"
    done
    ;;
  kill)
    # The collective takes about 5.6 ms loss-free; seed s kills spine1 (the
    # tree's root) at a different point of it, with 0.01% random loss on top.
    # A 10 ms failure timeout (default 100 ms) detects the dead root sooner and
    # spares the run most of the retransmissions into it.
    echo "kill spine1 during a 64 MiB innet all-reduce (reform policy, failure timeout 10 ms):"
    for seed in $(seq 1 "$RUNS"); do
      at=$(awk -v s="$seed" 'BEGIN { printf "%dus", 200 + (s * 277) % 5300 }')
      line=$(run -b 64M -e 64M --kill-switch "spine1@$at" --drop 0.0001 --seed "$seed" \
        --failure-timeout 10ms)
      echo "  seed $seed (kill at $at): $line" >&2
      echo "$line"
    done | summary 0
    ;;
  *)
    echo "usage: $0 loss|kill [RUNS]" >&2
    exit 2
    ;;
esac
