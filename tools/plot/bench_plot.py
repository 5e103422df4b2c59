#!/usr/bin/python3
"""Plots an inca bench sweep with matplotlib (Debian's python3-matplotlib).

    bench_plot.py SWEEP.json OUT.svg|OUT.png [--panels algbw,ratio,nic]

SWEEP.json is the document `inca bench --plot` and `inca report` write: the
collective, the ranks, the host algorithm, its nccl-tests bus factor and the
rows. Panels:
  algbw  algbw against message size per algorithm, log-log, with each
         algorithm's cost-model line (dashed);
  ratio  in-network algbw over the host algorithm's, with the 2(n-1)/n line;
  nic    bytes each NIC put on the wire per algorithm, with S and 2(n-1)/n S.
"""
import argparse
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: small, searchable SVG


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:g} {unit}"
        n /= 1024
    return str(n)


def series(rows):
    out = {}
    for r in rows:
        if r.get("bytes", 0) <= 0:
            continue
        out.setdefault(r["algorithm"], []).append(r)
    for rs in out.values():
        rs.sort(key=lambda r: r["bytes"])
    return out


def size_axis(ax, sizes):
    ax.set_xscale("log", base=2)
    lo, hi = min(sizes), max(sizes)
    step = 1
    while (hi.bit_length() - lo.bit_length()) / step > 7:
        step += 1
    ticks = [1 << e for e in range(lo.bit_length() - 1, hi.bit_length(), step)]
    ax.set_xlim(lo / 1.3, hi * 1.3)
    ax.set_xticks(ticks)
    ax.set_xticklabels([human(t) for t in ticks], rotation=30, ha="right", fontsize=8)
    ax.set_xlabel("message size S (bytes)")
    ax.grid(True, which="major", alpha=0.3)


def plot_algbw(ax, doc, by_algo):
    for i, (algo, rs) in enumerate(sorted(by_algo.items())):
        color = f"C{i}"
        xs = [r["bytes"] for r in rs]
        ax.plot(xs, [r["algbw_GBps"] for r in rs], "o-", color=color, label=f"{algo} (simulated)",
                markersize=4)
        model = [(r["bytes"], r["bytes"] / r["model_us"] / 1e3) for r in rs
                 if r.get("model_us")]
        if model:
            ax.plot(*zip(*model), "--", color=color, alpha=0.7, label=f"{algo} (model)")
    ax.set_yscale("log")
    ax.set_ylabel("algbw (GB/s)")
    ax.set_title(f"{doc['collective']}: algbw against size, {doc['ranks']} ranks")
    size_axis(ax, sorted({r['bytes'] for rs in by_algo.values() for r in rs}))
    ax.legend(fontsize=7)


def plot_ratio(ax, doc, by_algo):
    host = doc["host"]
    base = {r["bytes"]: r["algbw_GBps"] for r in by_algo.get(host, [])}
    n = doc["ranks"]
    for i, (algo, rs) in enumerate(sorted(by_algo.items())):
        if algo == host:
            continue
        pts = [(r["bytes"], r["algbw_GBps"] / base[r["bytes"]]) for r in rs
               if base.get(r["bytes"])]
        if pts:
            ax.plot(*zip(*pts), "o-", color=f"C{i}", markersize=4, label=f"{algo} / {host}")
    if doc["collective"] == "allreduce" and n > 1:
        ax.axhline(2 * (n - 1) / n, color="black", linestyle=":",
                   label=f"2(n-1)/n = {2 * (n - 1) / n:.3f}")
    ax.axhline(1, color="grey", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_ylabel(f"algbw / {host} algbw")
    ax.set_title(f"speed-up over {host}")
    size_axis(ax, sorted({r['bytes'] for rs in by_algo.values() for r in rs}))
    ax.legend(fontsize=7)


def plot_nic(ax, doc, by_algo):
    n = doc["ranks"]
    sizes = sorted({r["bytes"] for rs in by_algo.values() for r in rs})
    for i, (algo, rs) in enumerate(sorted(by_algo.items())):
        ax.plot([r["bytes"] for r in rs], [r["nic_tx_bytes"] for r in rs], "o-", color=f"C{i}",
                markersize=4, label=algo)
    if sizes:
        ax.plot(sizes, sizes, ":", color="black", label="S (once)")
        if doc["collective"] == "allreduce" and n > 1:
            ax.plot(sizes, [2 * (n - 1) / n * s for s in sizes], "-.", color="grey",
                    label="2(n-1)/n S")
    ax.set_yscale("log")
    ax.set_ylabel("bytes rank 0's NIC sent")
    ax.set_title("bytes on the wire per NIC")
    size_axis(ax, sorted({r['bytes'] for rs in by_algo.values() for r in rs}))
    ax.legend(fontsize=7)


PANELS = {"algbw": plot_algbw, "ratio": plot_ratio, "nic": plot_nic}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep")
    ap.add_argument("out")
    ap.add_argument("--panels", default="algbw,ratio,nic")
    a = ap.parse_args()
    with open(a.sweep) as f:
        doc = json.load(f)
    panels = [p for p in a.panels.split(",") if p]
    unknown = [p for p in panels if p not in PANELS]
    if unknown or not panels:
        sys.exit(f"bench_plot: unknown panel(s) {unknown}; choose from {sorted(PANELS)}")
    if not a.out.endswith((".svg", ".png")):
        sys.exit(f"bench_plot: {a.out}: the file must end in .svg or .png")
    by_algo = series(doc["rows"])
    if not by_algo:
        sys.exit("bench_plot: the sweep has no rows with bytes > 0 to plot")
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
    for ax, p in zip(axes[0], panels):
        PANELS[p](ax, doc, by_algo)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)


if __name__ == "__main__":
    main()
