#!/usr/bin/env bash
# Times `inca validate` on a preset with N generated jobs (default: the
# largest preset, hdr-200g with 160 hosts, and 64 jobs), RUNS times; prints
# each run's wall time and the median.
#   bench/validate_jobs.sh [PRESET] [JOBS] [RUNS]    (INCA: the inca binary, default build/bin/inca)
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${1:-hdr-200g}
JOBS=${2:-64}
RUNS=${3:-11}
INCA=${INCA:-build/bin/inca}
file=$(mktemp --suffix=.yaml)
trap 'rm -f "$file"' EXIT
/usr/bin/python3 - "$JOBS" >"$file" <<'PY'
import sys
n = int(sys.argv[1])
print("inca_jobs: 1")
# Small quotas so that 64 jobs fit the switches they share.
print("quotas: {%s}" % ", ".join(f"{p}: 1" for p in range(10)))
print("jobs:")
policies = ["packed", "spread", "random"]
for i in range(n):
    print(f"  - name: job{i}")
    print(f"    tenant: tenant{i % 8}")
    print(f"    priority: {i % 10}")
    print(f"    placement: {{policy: {policies[i % 3]}, ranks: 2, seed: {i}}}")
    print(f"    requests: {{slots: 1, payload: 512B, trees: {1 + i % 2}, streaming: {'on' if i % 4 == 0 else 'off'}}}")
    print("    workload:")
    print("      - {collective: allreduce, size: 1MiB, dtype: [f32], op: [sum], repeat: 10}")
PY
/usr/bin/python3 - "$INCA" "$PRESET" "$file" "$RUNS" <<'PY'
import statistics, subprocess, sys, time
inca, preset, jobs, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
times = []
for _ in range(runs):
    t = time.perf_counter()
    r = subprocess.run([inca, "validate", preset, jobs], capture_output=True, text=True)
    times.append(time.perf_counter() - t)
    if r.returncode not in (0, 1):
        sys.exit(f"inca validate failed ({r.returncode}): {r.stdout}{r.stderr}")
print(r.stdout.splitlines()[-1])
print("runs (s):", " ".join(f"{x:.3f}" for x in times))
print(f"median: {statistics.median(times):.3f} s over {runs} runs ({preset}, jobs file {jobs})")
PY
