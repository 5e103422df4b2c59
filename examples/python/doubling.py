#!/usr/bin/env python3
"""The bandwidth doubling of in-network all-reduce, as a lab's first
notebook cell: sweep message sizes on the simulator with the in-network
and the ring all-reduce, and plot bus bandwidth and the ratio.

  PYTHONPATH=build/python /usr/bin/python3 examples/python/doubling.py --out doubling.png

In a notebook, the same in three lines:

  rows = inca.bench(ranks=64, min_bytes="4K", max_bytes="64M", algos=["innet", "ring"])
  frame = pandas.DataFrame(rows)
  frame.pivot(index="bytes", columns="algorithm", values="busbw_GBps").plot(logx=True)
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")  # files, no display needed (a notebook shows the figure anyway)
import matplotlib.pyplot as plt  # noqa: E402

import inca  # noqa: E402


def sweep(args) -> list:
    return inca.bench(ranks=args.ranks, min_bytes=args.min_bytes, max_bytes=args.max_bytes,
                      algos=["innet", "ring"], link_gbps=args.link_gbps, topology=args.topology)


def plot(rows: list, args) -> None:
    by = {a: sorted((r for r in rows if r["algorithm"] == a), key=lambda r: r["bytes"])
          for a in ("innet", "ring")}
    sizes = [r["bytes"] for r in by["innet"]]
    fig, (bw, ratio) = plt.subplots(2, 1, sharex=True, figsize=(7, 6))
    for algorithm, series in by.items():
        bw.plot(sizes, [r["busbw_GBps"] for r in series], marker="o", label=algorithm)
        bw.plot(sizes, [r["bytes"] / r["model_us"] / 1e3 * (2 * (args.ranks - 1) / args.ranks)
                        for r in series], linestyle=":", color="grey")
    bw.axhline(args.link_gbps / 8, color="black", linewidth=0.8, label="link rate (ring's limit)")
    bw.set_ylabel("bus bandwidth (GB/s)")
    bw.set_title(f"all-reduce, {args.ranks} ranks, {args.topology}, {args.link_gbps:g} Gb/s links"
                 " (dotted: the cost model)")
    bw.legend()
    ratio.plot(sizes, [i["algbw_GBps"] / r["algbw_GBps"] for i, r in zip(by["innet"], by["ring"])],
               marker="o", color="tab:green")
    ratio.axhline(2 * (args.ranks - 1) / args.ranks, color="black", linewidth=0.8,
                  label="2(n-1)/n")
    ratio.set_ylabel("innet / ring algbw")
    ratio.set_xlabel("message size (bytes)")
    ratio.set_xscale("log", base=2)
    ratio.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranks", type=int, default=64)
    parser.add_argument("--topology", default="leaf-spine")
    parser.add_argument("--link-gbps", type=float, default=100)
    parser.add_argument("--min-bytes", default="4K")
    parser.add_argument("--max-bytes", default="64M")
    parser.add_argument("--out", default="doubling.png")
    args = parser.parse_args()
    rows = sweep(args)
    for r in rows:
        print(f"{r['bytes']:>10} {r['algorithm']:>6} {r['busbw_GBps']:8.2f} GB/s  {r['check']}")
    plot(rows, args)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
