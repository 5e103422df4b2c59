#!/usr/bin/env python3
"""What Python rank programs cost against the same rank programs in C++, on
the simulator, in one process (medians of --reps alternating runs):

  1. 64 ranks, one 16 MiB f32 in-network all-reduce each, in place (the
     target: Python <= 1.5x C++ wall);
  2. 8 ranks, 1000 8-byte all-reduces each (per-call overhead).

Usage: PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py [--reps 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import inca


def python_run(world: inca.World, count: int, iterations: int, algorithm: str) -> float:
    # Buffers allocated before the run, as the C++ twin's: page faults of
    # fresh memory would otherwise dominate the 1 GiB case, and vary run to run.
    buffers = [np.empty(count, dtype=np.float32) for _ in range(world.size)]

    def rank(comm):
        data = buffers[comm.rank]
        data.fill(1.0)
        for _ in range(iterations):
            comm.allreduce(data, data, algorithm=algorithm)
        return float(data[0])

    for data in buffers:
        data.fill(0.0)  # touch every page before the clock starts
    start = time.perf_counter()
    results = world.run(rank)
    wall = time.perf_counter() - start
    if iterations == 1:  # the sum of ones, exactly
        assert all(r == world.size for r in results), results
    return wall


def compare(name: str, ranks: int, count: int, iterations: int, algorithm: str, reps: int,
            **options) -> None:
    world = inca.World(ranks=ranks, **options)
    py, cpp = [], []
    for _ in range(reps):
        py.append(python_run(world, count, iterations, algorithm))
        cpp.append(world._run_native_allreduce(count, iterations, algorithm))
    p, c = statistics.median(py), statistics.median(cpp)
    calls = iterations
    print(f"{name}: {ranks} ranks, {iterations} x {count * 4} B f32 {algorithm}: "
          f"python {p:.4f} s, c++ {c:.4f} s, ratio {p / c:.3f}, "
          f"extra per call {(p - c) / calls * 1e6:.1f} us per collective "
          f"({(p - c) / calls / ranks * 1e6:.1f} us per rank-call)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--skip-large", action="store_true", help="only the small-call case")
    args = parser.parse_args()
    if not args.skip_large:
        compare("large", 64, 4 << 20, 1, "innet", args.reps)
    compare("small", 8, 2, 1000, "innet", args.reps, topology="star")
    compare("small", 8, 2, 1000, "ring", args.reps, topology="star")


if __name__ == "__main__":
    main()
