"""Python rank programs on the simulator keep CPython's per-thread state
whole: 64 ranks block in collectives while deep in recursion, inside
exception handlers and in suspended generators, allocate between calls,
and still get exact results. ctest runs this file again under
PYTHONDEVMODE=1 (debug allocator hooks, GIL checks on allocation) with
warnings as errors."""

from __future__ import annotations

import _thread
import sys
import threading
import time

import numpy as np

import inca

RANKS = 64
DEPTH = 900  # frames below the recursion limit of 1000 of a fresh thread


class RankFailure(Exception):
    pass


def test_64_ranks_recurse_raise_catch_allocate():
    world = inca.World(ranks=RANKS)
    local = threading.local()

    def descend(comm, depth, trail):
        trail.append(np.full(8, depth, dtype=np.int64))  # allocation at every level
        if depth == 0:
            x = np.full(32, comm.rank + 1, dtype=np.int64)
            comm.allreduce(x, x)  # every rank blocks here, DEPTH frames deep
            return int(x[0])
        if depth % 50 == 0:
            try:
                raise RankFailure((comm.rank, depth))
            except RankFailure as handled:
                # A collective inside an except block: the exception being
                # handled must be this thread's after the other ranks ran.
                y = np.ones(4, dtype=np.float64)
                comm.allreduce(y, y)
                assert sys.exc_info()[1] is handled
                assert handled.args[0] == (comm.rank, depth)
                assert y[0] == RANKS
        result = descend(comm, depth - 1, trail)
        assert trail[DEPTH - depth].tolist() == [depth] * 8  # this level's allocation, intact
        return result

    def numbers(comm):
        # A generator suspended across collectives.
        for i in range(3):
            z = np.array([i + comm.rank], dtype=np.int32)
            comm.allreduce(z, z, op="max")
            yield int(z[0])

    def rank(comm):
        local.rank = comm.rank
        total = descend(comm, DEPTH, [])
        assert local.rank == comm.rank  # thread locals are per rank
        try:
            comm.allreduce(np.ones(4, np.float32), op="band")
        except inca.NotSupported:
            pass
        gen = list(numbers(comm))
        big = [np.random.default_rng(comm.rank).random(1000) for _ in range(20)]
        s = comm.allreduce(np.array([sum(float(b.sum()) for b in big)]), op="sum")
        return total, gen, local.rank, float(s[0])

    results = world.run(rank)
    expected_sum = sum(
        sum(float(b.sum()) for b in [np.random.default_rng(r).random(1000) for _ in range(20)])
        for r in range(RANKS))
    for r, (total, gen, who, s) in enumerate(results):
        assert total == RANKS * (RANKS + 1) // 2
        assert gen == [RANKS - 1, RANKS, RANKS + 1]
        assert who == r
        assert abs(s - expected_sum) <= 1e-9 * expected_sum


def test_reruns_reuse_worker_threads():
    world = inca.World(ranks=8, topology="star")
    world.run(lambda comm: comm.barrier())
    before = inca._native._worker_threads()
    for _ in range(3):
        world.run(lambda comm: comm.barrier())
    assert inca._native._worker_threads() == before


def test_live_ranks_release_the_gil_while_they_wait():
    """Ranks 1..3 wait in an all-reduce for rank 0, which first runs Python
    for a while; a bystander thread keeps counting meanwhile. Held GILs
    would stop both (rank 0 could not run, and the run would time out)."""
    world = inca.World(ranks=4, fabric="live", topology="star")
    count = [0]
    stop = threading.Event()

    def bystander():
        while not stop.is_set():
            count[0] += 1

    thread = threading.Thread(target=bystander)
    thread.start()

    def rank(comm):
        if comm.rank == 0:
            deadline = time.monotonic() + 0.2
            while time.monotonic() < deadline:  # Python work while the others wait
                pass
        before = count[0]
        x = np.full(8, comm.rank, dtype=np.int32)
        comm.allreduce(x, x)
        return int(x[0]), count[0] - before

    try:
        results = world.run(rank)
    finally:
        stop.set()
        thread.join()
    assert [r[0] for r in results] == [6] * 4
    assert all(progress > 0 for _, progress in results[1:])


def test_ctrl_c_interrupts_rank_programs_that_never_return():
    """A notebook's interrupt (SIGINT to the main thread) stops a run whose
    rank program spins in Python while the others wait for it."""
    world = inca.World(ranks=4, topology="star")
    spun_out = []

    def rank(comm):
        if comm.rank == 2:
            deadline = time.monotonic() + 30  # "forever", but a regression fails, not hangs
            while time.monotonic() < deadline:
                pass
            spun_out.append(True)
        comm.barrier()

    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    try:
        world.run(rank)
        interrupted = False
    except KeyboardInterrupt:
        interrupted = True
    finally:
        timer.cancel()
    assert interrupted and not spun_out  # the loop itself was interrupted
    # The interrupt does not leak into later runs on the pooled threads.
    fresh = inca.World(ranks=4, topology="star")
    assert fresh.run(lambda comm: comm.rank) == [0, 1, 2, 3]
