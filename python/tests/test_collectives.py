"""Exact results of every collective on every dtype (and every op the dtype
has) on 1, 3, 8 and 64 ranks, in-network and with the host algorithm,
blocking and non-blocking: compared bit for bit with numpy references."""

from __future__ import annotations

import numpy as np
import pytest

import inca
from conftest import (as_buffer, ops_of, reduce_reference, same, values)

RANKS = [1, 3, 8, 64]
COUNT = 1500  # several switch slots for the wider dtypes
HOST = {"allreduce": "ring", "reduce": "binomial", "broadcast": "binomial",
        "barrier": "dissemination", "reduce_scatter": "ring", "allgather": "ring"}


@pytest.fixture(scope="module", params=RANKS, ids=lambda n: f"{n}ranks")
def world(request):
    return inca.World(ranks=request.param)


# On 64 ranks a few ops per dtype keep the run short: one arithmetic, one
# ordering, one logical and (integers) one bitwise.
OPS_64 = {"sum", "max", "lor", "bxor"}


def cases(collective: str, ranks: int):
    """(dtype, op, algorithm, nonblocking) of a collective."""
    reductions = {"allreduce", "reduce", "reduce_scatter"}
    for dtype in inca.dtypes():
        ops = [op for op in ops_of(dtype) if ranks < 64 or op in OPS_64]
        for op in (ops if collective in reductions else [None]):
            for algorithm in ("innet", HOST[collective]):
                for nonblocking in (False, True):
                    yield dtype, op, algorithm, nonblocking


def run_cases(world, collective, body, reference=None):
    """Runs body(comm, want, case) for every case on every rank, where want
    is reference(case) computed once, before the run; asserts no rank
    reported a difference."""
    all_cases = list(cases(collective, world.size))
    wanted = {case: reference(*case) if reference else None for case in all_cases}

    def rank(comm):
        failures = []
        for case in all_cases:
            why = body(comm, wanted[case], *case)
            if why:
                failures.append((comm.rank,) + case + (why,))
        return failures

    failures = [f for per_rank in world.run(rank) for f in per_rank]
    assert not failures, f"{len(failures)} differences, first: {failures[:5]}"


def call(comm, name, nonblocking, *args, **kwargs):
    if nonblocking:
        request = getattr(comm, "i" + name)(*args, **kwargs)
        assert isinstance(request, inca.Request)
        return request.wait()
    return getattr(comm, name)(*args, **kwargs)


def check_algorithm(comm, algorithm):
    if comm.last_algorithm != algorithm:
        return f"ran {comm.last_algorithm} ({comm.last_note})"
    return None


def test_allreduce(world):
    n = world.size

    def reference(dtype, op, algorithm, nonblocking):
        return reduce_reference(dtype, op, [values(dtype, op, r, COUNT) for r in range(n)])

    def body(comm, want, dtype, op, algorithm, nonblocking):
        mine = as_buffer(dtype, values(dtype, op, comm.rank, COUNT))
        kw = {"dtype": "bf16"} if dtype == "bf16" else {}
        out = call(comm, "allreduce", nonblocking, mine, op=op, algorithm=algorithm, **kw)
        return check_algorithm(comm, algorithm) or (None if same(dtype, out, want) else "values")

    run_cases(world, "allreduce", body, reference)


def test_reduce(world):
    n = world.size
    root = n - 1

    def reference(dtype, op, algorithm, nonblocking):
        return reduce_reference(dtype, op, [values(dtype, op, r, COUNT) for r in range(n)])

    def body(comm, want, dtype, op, algorithm, nonblocking):
        mine = as_buffer(dtype, values(dtype, op, comm.rank, COUNT))
        kw = {"dtype": "bf16"} if dtype == "bf16" else {}
        out = call(comm, "reduce", nonblocking, mine, op=op, root=root, algorithm=algorithm, **kw)
        if comm.rank != root:
            return None if out is None else "a result off the root"
        return check_algorithm(comm, algorithm) or (None if same(dtype, out, want) else "values")

    run_cases(world, "reduce", body, reference)


def test_broadcast(world):
    root = world.size // 2

    def body(comm, _, dtype, op, algorithm, nonblocking):
        want = values(dtype, "sum", root, COUNT)
        buf = as_buffer(dtype, want if comm.rank == root else np.zeros_like(want))
        kw = {"dtype": "bf16"} if dtype == "bf16" else {}
        out = call(comm, "broadcast", nonblocking, buf, root=root, algorithm=algorithm, **kw)
        if out is not buf:
            return "did not return the buffer"
        return check_algorithm(comm, algorithm) or (None if same(dtype, buf, want) else "values")

    run_cases(world, "broadcast", body)


def test_barrier(world):
    step = 1e-6  # rank r enters r microseconds after rank 0 (virtual time)

    def body(comm, _, dtype, op, algorithm, nonblocking):
        if dtype != "u8":
            return None
        comm.barrier()  # a common start
        start = comm.now()
        comm.progress_for(comm.rank * step)
        call(comm, "barrier", nonblocking, algorithm=algorithm)
        left = comm.now() - start
        if left < (comm.size - 1) * step:
            return f"left after {left} s, before the last rank entered"
        return check_algorithm(comm, algorithm)

    run_cases(world, "barrier", body)


def test_reduce_scatter(world):
    n = world.size
    block = 100

    def reference(dtype, op, algorithm, nonblocking):
        return reduce_reference(dtype, op, [values(dtype, op, r, block * n) for r in range(n)])

    def body(comm, whole, dtype, op, algorithm, nonblocking):
        mine = as_buffer(dtype, values(dtype, op, comm.rank, block * n))
        kw = {"dtype": "bf16"} if dtype == "bf16" else {}
        out = call(comm, "reduce_scatter", nonblocking, mine, op=op, algorithm=algorithm, **kw)
        want = whole[comm.rank * block:(comm.rank + 1) * block]
        return check_algorithm(comm, algorithm) or (None if same(dtype, out, want) else "values")

    run_cases(world, "reduce_scatter", body, reference)


def test_allgather(world):
    n = world.size

    def reference(dtype, op, algorithm, nonblocking):
        return np.stack([values(dtype, "sum", r, 40) for r in range(n)])

    def body(comm, want, dtype, op, algorithm, nonblocking):
        mine = as_buffer(dtype, values(dtype, "sum", comm.rank, 40))
        kw = {"dtype": "bf16"} if dtype == "bf16" else {}
        out = call(comm, "allgather", nonblocking, mine, algorithm=algorithm, **kw)
        if out.shape != (n, 40):
            return f"shape {out.shape}"
        return check_algorithm(comm, algorithm) or (None if same(dtype, out, want) else "values")

    run_cases(world, "allgather", body, reference)


def test_innet_allreduce_held_range_sends_the_rest_header_only():
    """A rank that holds only its block uploads only that block's chunks: the
    others go as header-only identity packets, which the switch leaves out."""
    world = inca.World(ranks=4, topology="star")
    block = 1024  # u32 words: 4 KiB, two 2 KiB chunks per rank

    def rank(comm):
        r = comm.rank
        buf = np.zeros(4 * block, np.uint32)
        buf[r * block:(r + 1) * block] = np.arange(block, dtype=np.uint32) + 1000 * r
        out = comm.innet_allreduce(buf, op="bor", held=(r * block, block))
        return out

    before = world.stats()
    results = world.run(rank)
    after = world.stats()
    want = np.concatenate([np.arange(block, dtype=np.uint32) + 1000 * r for r in range(4)])
    for got in results:
        assert np.array_equal(got, want)
    # 8 chunks, each held by one of 4 ranks: 3 identity contributions each.
    assert after["switch_contributions"] - before["switch_contributions"] == 8 * 4
    assert (after["switch_identity_contributions"]
            - before["switch_identity_contributions"]) == 8 * 3

    def float_sum(comm):
        comm.innet_allreduce(np.ones(16, np.float32), held=(0, 8))

    with pytest.raises(inca.RankError, match="InvalidArgument.*zero is not its identity"):
        world.run(float_sum)


def test_innet_allreduce_kept_range_is_answered_header_only_elsewhere():
    """A rank that keeps only its block downloads only that block's chunks."""
    world = inca.World(ranks=4, topology="star")
    block = 512  # f32: 2 KiB, one chunk per rank

    def rank(comm):
        r = comm.rank
        recv = np.full(4 * block, -1.0, np.float32)
        comm.innet_allreduce(np.full(4 * block, r + 1.0, np.float32), recv,
                             kept=(r * block, block))
        return recv

    before = world.stats()
    results = world.run(rank)
    after = world.stats()
    for r, got in enumerate(results):
        mine = slice(r * block, (r + 1) * block)
        assert np.all(got[mine] == 10.0)
        rest = np.delete(got, np.arange(r * block, (r + 1) * block))
        assert np.all(rest == -1.0)
    assert (after["switch_header_only_results"]
            - before["switch_header_only_results"]) == 4 * 3
