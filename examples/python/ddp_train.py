#!/usr/bin/env python3
"""Trains a small MLP with PyTorch's DistributedDataParallel, its gradient
buckets all-reduced through inca (inca.torch.allreduce_hook), one process
per rank; or, for reference, over PyTorch's own Gloo backend.

  # 4 rank processes on inca-switch (udp: kernel sockets in namespaces;
  # memif: DPDK memif ports), the in-network all-reduce, then the ring:
  inca launch -n 4 --fabric udp -- /usr/bin/python3 examples/python/ddp_train.py \\
      --algorithm innet --out innet.json
  inca launch -n 4 --fabric udp -- /usr/bin/python3 examples/python/ddp_train.py \\
      --algorithm ring --out ring.json
  # the same training over Gloo (4 local processes), and the step-by-step check:
  /usr/bin/python3 examples/python/ddp_train.py --backend gloo --ranks 4 --out gloo.json
  /usr/bin/python3 examples/python/ddp_train.py --compare gloo.json innet.json ring.json

Ranks that import torch on a busy machine may start seconds apart: `inca
launch --timeout-ms 60000` keeps the first all-reduce waiting for them.

Every rank seeds the same model and draws its own batches from (seed, step,
rank), so both backends see the same data; the losses differ only by the
order in which the all-reduces add. Rank 0 writes its loss per step, the
median step time and the time spent in the gradient all-reduce (inca: in
the hook; Gloo: not measured, DDP overlaps it with the backward pass).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

import torch
import torch.distributed as dist

FEATURES, HIDDEN, CLASSES = 64, 256, 10


def make_model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, CLASSES))


def batch(seed: int, step: int, rank: int, size: int):
    """Rank `rank`'s batch of step `step`: a fixed random teacher labels
    random inputs, so the loss falls as the model learns it."""
    teacher = torch.Generator().manual_seed(seed + 1)
    weights = torch.randn(FEATURES, CLASSES, generator=teacher)
    g = torch.Generator().manual_seed(seed * 1_000_003 + step * 1009 + rank)
    x = torch.randn(size, FEATURES, generator=g)
    return x, (x @ weights).argmax(dim=1)


def train(args, model: torch.nn.Module, rank: int, on_step=None) -> dict:
    """The training loop both backends run; DDP is already around `model`."""
    torch.set_num_threads(1)  # one core per rank process
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    losses, step_times = [], []
    for step in range(args.steps):
        start = time.perf_counter()
        x, y = batch(args.seed, step, rank, args.batch)
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()  # DDP all-reduces the gradient buckets here
        optimizer.step()
        step_times.append(time.perf_counter() - start)
        losses.append(loss.item())
        if on_step:
            on_step(step)
    warm = step_times[args.warmup:] or step_times
    return {"losses": losses, "step_ms_median": 1e3 * statistics.median(warm),
            "steps": args.steps, "batch": args.batch,
            "parameters": sum(p.numel() for p in model.parameters())}


def run_inca(args) -> None:
    import inca
    import inca.torch

    world = inca.ProcessWorld()

    def rank_program(comm):
        # DDP's own process group (here: this process alone) serves only its
        # bookkeeping at construction; every gradient goes through the hook.
        dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        model = torch.nn.parallel.DistributedDataParallel(make_model(args.seed))
        state = inca.torch.HookState(comm, algorithm=args.algorithm)
        model.register_comm_hook(state, inca.torch.allreduce_hook)
        per_step = []
        seen = [0.0]

        def on_step(step):
            per_step.append(state.seconds - seen[0])
            seen[0] = state.seconds

        result = train(args, model, comm.rank, on_step)
        warm = per_step[args.warmup:] or per_step
        result.update(backend="inca", algorithm=args.algorithm,
                      ran=dict(state.algorithms), ranks=comm.size,
                      fabric=os.environ.get("INCA_FABRIC", "?"),
                      allreduce_ms_median=1e3 * statistics.median(warm),
                      allreduce_bytes_per_step=state.bytes // max(1, args.steps))
        result["allreduce_share"] = result["allreduce_ms_median"] / result["step_ms_median"]
        dist.destroy_process_group()
        return result

    result = world.run(rank_program)
    if world.rank == 0:
        write(args.out, result)


def run_gloo(args) -> None:
    rank = int(os.environ.get("RANK", "-1"))
    if rank < 0:  # the launcher: one process per rank on this machine
        port = args.port or free_port()
        env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                   WORLD_SIZE=str(args.ranks), GLOO_SOCKET_IFNAME="lo")
        procs = [subprocess.Popen([sys.executable, *sys.argv], env=dict(env, RANK=str(r)))
                 for r in range(args.ranks)]
        codes = [p.wait() for p in procs]
        if any(codes):
            sys.exit(f"ddp_train: gloo ranks exited with {codes}")
        return
    dist.init_process_group("gloo", rank=rank, world_size=int(os.environ["WORLD_SIZE"]))
    model = torch.nn.parallel.DistributedDataParallel(make_model(args.seed))
    result = train(args, model, rank)
    result.update(backend="gloo", algorithm="gloo", ranks=dist.get_world_size(), fabric="tcp")
    dist.destroy_process_group()
    if rank == 0:
        write(args.out, result)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(path: str, result: dict) -> None:
    text = json.dumps(result)
    if path:
        with open(path, "w") as f:
            f.write(text)
    summary = {k: v for k, v in result.items() if k != "losses"}
    print(f"ddp_train: {summary}; loss {result['losses'][0]:.4f} -> {result['losses'][-1]:.4f}",
          file=sys.stderr)


def compare(paths, rtol: float) -> int:
    """Losses of every run against the first's, step by step. Runs that add
    in another order drift apart by rounding, a few ulps per step at first,
    amplified as training goes on; the largest difference over each stretch
    of 50 steps shows how. Exit status 1 when any differs by more than rtol."""
    runs = [json.load(open(p)) for p in paths]
    base = runs[0]
    worst = 0.0
    for path, run in zip(paths[1:], runs[1:]):
        if len(run["losses"]) != len(base["losses"]):
            print(f"{path}: {len(run['losses'])} steps, {paths[0]} has {len(base['losses'])}")
            return 1
        diffs = [abs(a - b) / max(abs(b), 1e-12) for a, b in zip(run["losses"], base["losses"])]
        stretches = " ".join(f"{max(diffs[i:i + 50]):.1e}" for i in range(0, len(diffs), 50))
        print(f"{path} ({run['backend']} {run['algorithm']} on {run['fabric']}): step "
              f"{run['step_ms_median']:.2f} ms, all-reduce "
              f"{run.get('allreduce_ms_median', float('nan')):.2f} ms "
              f"({100 * run.get('allreduce_share', float('nan')):.0f}%); largest relative loss "
              f"difference per 50 steps: {stretches}")
        worst = max(worst, max(diffs))
    return 0 if worst <= rtol else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["inca", "gloo"], default="inca")
    parser.add_argument("--algorithm", default="innet", help="inca all-reduce algorithm")
    parser.add_argument("--ranks", type=int, default=4, help="gloo: processes to start")
    parser.add_argument("--port", type=int, default=0, help="gloo: rendezvous port (0: a free one)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=10, help="steps left out of the medians")
    parser.add_argument("--batch", type=int, default=64, help="samples per rank and step")
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="", help="where rank 0 writes its JSON")
    parser.add_argument("--compare", nargs="+", metavar="JSON",
                        help="compare the runs' losses with the first's; exit 1 past --rtol")
    parser.add_argument("--rtol", type=float, default=1e-4)
    args = parser.parse_args()
    if args.compare:
        sys.exit(compare(args.compare, args.rtol))
    run_gloo(args) if args.backend == "gloo" else run_inca(args)


if __name__ == "__main__":
    main()
