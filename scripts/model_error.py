#!/usr/bin/python3
"""Worst error of the cost model against the simulator, per preset and algorithm.

Runs, for each preset, the sweep of docs/model.md ("Model against simulator,
per preset"):

    inca bench --preset NAME -b 8 -e 16M -f 8 \
      --algos innet,ring,recursive_doubling,rabenseifner,binomial_tree,hierarchical \
      --payload off --format json

and prints (model_us - time_us) / time_us at its worst below 1 MiB and from
1 MiB up, with the size where it is worst, as the doc's table does. With
--rows it also prints every row; --json FILE reads a saved sweep instead of
running one (one preset).

Usage: scripts/model_error.py [--inca build/bin/inca] [--presets a,b] [--rows]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ALGOS = "innet,ring,recursive_doubling,rabenseifner,binomial_tree,hierarchical"
LARGE = 1 << 20


def size_name(n):
    for unit, shift in (("Mi", 20), ("Ki", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}B"
    return f"{n} B"


def sweep(inca, preset):
    out = subprocess.run(
        [inca, "bench", "--preset", preset, "-b", "8", "-e", "16M", "-f", "8",
         "--algos", ALGOS, "--payload", "off", "--format", "json"],
        capture_output=True, text=True).stdout
    # A refused algorithm (a switch that does not aggregate f32) makes inca
    # exit 1 after printing the other rows.
    return json.loads(out)


def error(row):
    return (row["model_us"] - row["time_us"]) / row["time_us"]


def worst(rows):
    """The row whose error is largest in magnitude, or None."""
    return max(rows, key=lambda r: abs(error(r)), default=None)


def cell(row):
    if row is None:
        return "-"
    return f"{100 * error(row):+.2f} % ({size_name(row['bytes'])})"


def main():
    repo = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inca", default=str(repo / "build/bin/inca"))
    ap.add_argument("--presets", default=",".join(
        p.stem for p in sorted((repo / "presets").glob("*.yaml")) if not p.stem.startswith("gb300")))
    ap.add_argument("--json", help="a saved sweep to read instead of running inca")
    ap.add_argument("--rows", action="store_true", help="print every row too")
    args = ap.parse_args()

    print(f"{'preset':<18} {'algorithm':<20} {'8 B - 256 KiB':>22} {'1 - 16 MiB':>22}")
    for preset in args.presets.split(","):
        rows = json.loads(Path(args.json).read_text()) if args.json else sweep(args.inca, preset)
        for algo in ALGOS.split(","):
            mine = [r for r in rows if r["algorithm"] == algo
                    and r.get("model_us") is not None and r["time_us"] > 0]
            if not mine:
                continue
            small = worst([r for r in mine if r["bytes"] < LARGE])
            large = worst([r for r in mine if r["bytes"] >= LARGE])
            print(f"{preset:<18} {algo:<20} {cell(small):>22} {cell(large):>22}")
            if args.rows:
                for r in mine:
                    print(f"    {size_name(r['bytes']):>8} sim {r['time_us']:10.2f} "
                          f"model {r['model_us']:10.2f} {100 * error(r):+7.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
