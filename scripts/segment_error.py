#!/usr/bin/python3
"""Measures the error of the simulator's segment mode against packet mode.

Runs `inca bench --payload off` once with --sim-mode packet and once with
--sim-mode segment for each fabric of a matrix, and prints a markdown table:
sim time of each row in both modes, the segment mode's error, and the events
and wall time of each mode (docs/model.md, "Segment mode").

With --contention it runs `inca run FABRIC JOBS --payload off --algorithm A`
instead: two jobs at once whose traffic shares leaf uplinks
(examples/jobs/shared-uplinks.yaml), in both modes, one row per job, step and
algorithm, and the slowdown each job had against running alone.

  scripts/segment_error.py                 the matrix of docs/model.md
  scripts/segment_error.py --quick         one small fabric (a smoke run)
  scripts/segment_error.py --only gb300    the fabrics whose label contains gb300
  scripts/segment_error.py --contention    two jobs sharing uplinks (bound 5 %)
  INCA=path/to/inca scripts/segment_error.py
"""
import argparse
import json
import os
import subprocess
import sys
import time

ALGOS = "innet,ring,recursive_doubling,rabenseifner,binomial_tree,hierarchical"

# (label, contended, sizes, bench flags[, algorithms added to --algos]).
# "contended": links shared by several flows (oversubscribed uplinks), where
# the bound is 5 % instead of 1 %.
MATRIX = [
    ("leaf-spine 64 (8/leaf, 8 spines)", False, "1M,16M",
     ["--ranks", "64", "--hosts-per-leaf", "8", "--spines", "8"]),
    ("leaf-spine 256 (16/leaf, 16 spines)", False, "1M,4M",
     ["--ranks", "256", "--hosts-per-leaf", "16", "--spines", "16"]),
    # default-100g is 4:1 oversubscribed (8 hosts and 2 spines per leaf).
    ("default-100g 64", True, "1M,16M", ["--preset", "default-100g"]),
    ("default-100g 256", True, "1M,4M,16M", ["--preset", "default-100g", "--ranks", "256"]),
    ("ndr-400g 64", False, "1M,16M", ["--preset", "ndr-400g", "--ranks", "64"]),
    ("ndr-400g 256", False, "1M,4M,16M", ["--preset", "ndr-400g", "--ranks", "256"]),
    ("hdr-200g 64", False, "1M,16M", ["--preset", "hdr-200g", "--ranks", "64"]),
    ("hdr-200g 256", False, "1M,4M,16M", ["--preset", "hdr-200g", "--ranks", "256"]),
    # The two-tier all-reduce runs only where hosts have a scale-up domain.
    ("gb300 144", False, "1M,4M,16M", ["--preset", "gb300-nvl72-4608", "--ranks", "144"],
     "two_tier"),
    ("leaf-spine 64 oversubscribed 8:1 (16/leaf, 2 spines)", True, "1M,16M",
     ["--ranks", "64", "--hosts-per-leaf", "16", "--spines", "2"]),
]
QUICK = [("leaf-spine 16 (4/leaf, 2 spines)", True, "1M",
          ["--ranks", "16", "--hosts-per-leaf", "4", "--spines", "2"])]

# `inca run` with two 16-rank jobs on the same four leaves (1 MiB, then
# 16 MiB): (label, fabric, job file). On default-100g each job's streaming
# tree holds its own spine's ports, so innet shares no uplink; on the
# one-spine fabric the trees collide, one job runs innet and the other falls
# back to the ring, whose traffic shares the innet tree's uplinks.
JOBS = "examples/jobs/shared-uplinks.yaml"
CONTENTION = [
    ("default-100g, 2 jobs x 16", "default-100g", JOBS),
    ("one spine, 2 jobs x 16", "examples/jobs/one-spine-fabric.yaml", JOBS),
]
CONTENTION_ALGOS = "ring,innet,recursive_doubling,rabenseifner"


def parse_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def bench(inca, flags, algos, size, mode, segment_packets):
    cmd = [inca, "bench", "--payload", "off", "--format", "json", "--stats", "--algos", algos,
           "-b", size, "-e", size, "--sim-mode", mode, *flags]
    if mode == "segment" and segment_packets:
        cmd += ["--segment-packets", str(segment_packets)]
    start = time.monotonic()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out), time.monotonic() - start


def run_jobs(inca, fabric, jobs, algorithm, mode, segment_packets):
    cmd = [inca, "run", fabric, jobs, "--payload", "off", "--format", "json", "--algorithm",
           algorithm, "--sim-mode", mode]
    if mode == "segment" and segment_packets:
        cmd += ["--segment-packets", str(segment_packets)]
    start = time.monotonic()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out), time.monotonic() - start


class Errors:
    """The error of each row against its bound, and the worst of each kind."""

    def __init__(self):
        self.worst = {False: 0.0, True: 0.0}
        self.failed = 0

    def add(self, packet_us, segment_us, contended):
        err = 100.0 * (segment_us - packet_us) / packet_us
        bound = 5.0 if contended else 1.0
        self.worst[contended] = max(self.worst[contended], abs(err))
        self.failed += abs(err) > bound
        return err, bound

    def summary(self):
        print(f"\nworst |error|: {self.worst[False]:.3f} % uncontended (bound 1 %), "
              f"{self.worst[True]:.3f} % contended (bound 5 %); {self.failed} row(s) over their "
              "bound")
        return 1 if self.failed else 0


def bench_table(inca, matrix, args, errors):
    print("| fabric | algorithm | bytes | packet us | segment us | error % | bound | "
          "events packet | events segment | retransmissions packet / segment | wall packet s | "
          "wall segment s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, contended, sizes, flags, *extra in matrix:
        algos = ",".join([args.algos, *extra]) if args.extra else args.algos
        for size in sizes.split(","):
            rows = {}
            for mode in ("packet", "segment"):
                data, wall = bench(inca, flags, algos, size, mode, args.segment_packets)
                for r in data:
                    rows.setdefault(r["algorithm"], {})[mode] = (r, wall)
            for algo, by_mode in rows.items():
                (p, wall_p), (s, wall_s) = by_mode["packet"], by_mode["segment"]
                assert p["model"] == "packet" and s["model"] == "segment", (p, s)
                err, bound = errors.add(p["time_us"], s["time_us"], contended)
                print(f"| {label} | {algo} | {parse_size(size)} | {p['time_us']:.2f} | "
                      f"{s['time_us']:.2f} | {err:+.3f} | {bound:g} | "
                      f"{p['stats']['events']} | {s['stats']['events']} | "
                      f"{p['stats']['host_retransmissions']} / {s['stats']['host_retransmissions']} | "
                      f"{wall_p:.2f} | "
                      f"{wall_s:.2f} |", flush=True)


def contention_table(inca, matrix, args, errors):
    print("| fabric | --algorithm | job | bytes | ran | packet us | segment us | error % | bound | "
          "slowdown packet / segment | events packet | events segment | wall packet s | "
          "wall segment s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, fabric, jobs in matrix:
        for algo in args.algos.split(","):
            (p, wall_p), (s, wall_s) = (
                run_jobs(inca, fabric, jobs, algo, mode, args.segment_packets)
                for mode in ("packet", "segment"))
            for pr, sr in zip(p["rows"], s["rows"]):
                assert (pr["job"], pr["step"]) == (sr["job"], sr["step"]), (pr, sr)
                assert pr["model"] == "packet" and sr["model"] == "segment", (pr, sr)
                err, bound = errors.add(pr["time_us"], sr["time_us"], True)
                ran = pr["algorithm"] if pr["algorithm"] == sr["algorithm"] else \
                    f"{pr['algorithm']} / {sr['algorithm']}"
                print(f"| {label} | {algo} | {pr['job']} | {pr['bytes']} | {ran} | "
                      f"{pr['time_us']:.2f} | {sr['time_us']:.2f} | {err:+.3f} | {bound:g} | "
                      f"{pr['slowdown']:.3f} / {sr['slowdown']:.3f} | {p['events']} | "
                      f"{s['events']} | {wall_p:.2f} | {wall_s:.2f} |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one small fabric")
    ap.add_argument("--contention", action="store_true",
                    help="two jobs sharing uplinks, with inca run")
    ap.add_argument("--only", default="", help="fabrics whose label contains this")
    ap.add_argument("--algos", default=None,
                    help=f"default: {ALGOS} and a fabric's own (two_tier on gb300); "
                    f"{CONTENTION_ALGOS} with --contention")
    ap.add_argument("--segment-packets", type=int, default=0, help="0: the default")
    args = ap.parse_args()
    inca = os.environ.get("INCA", "build/bin/inca")
    errors = Errors()
    if args.contention:
        args.algos = args.algos or CONTENTION_ALGOS
        contention_table(inca, [m for m in CONTENTION if args.only in m[0]], args, errors)
    else:
        args.extra = args.algos is None
        args.algos = args.algos or ALGOS
        matrix = [m for m in (QUICK if args.quick else MATRIX) if args.only in m[0]]
        bench_table(inca, matrix, args, errors)
    return errors.summary()


if __name__ == "__main__":
    sys.exit(main())
