"""The rest of inca.Communicator and inca.World: point-to-point, requests,
split, MINLOC/MAXLOC, the clock, what a world reports."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import inca


@pytest.fixture
def world():
    return inca.World(ranks=6, topology="star")


def test_point_to_point_ring(world):
    def rank(comm):
        n, me = comm.size, comm.rank
        out = np.full(5, me, dtype=np.int16)
        got = np.zeros(5, dtype=np.int16)
        if me % 2 == 0:  # blocking, ordered so that no rank waits on itself
            comm.send(out, (me + 1) % n, tag=7)
            comm.recv(got, (me - 1) % n, tag=7)
        else:
            comm.recv(got, (me - 1) % n, tag=7)
            comm.send(out, (me + 1) % n, tag=7)
        back = np.zeros(5, dtype=np.int16)
        requests = [comm.irecv(back, (me + 1) % n, tag=9), comm.isend(out, (me - 1) % n, tag=9)]
        results = comm.wait_all(requests)
        return got.tolist(), back.tolist(), results[0] is back, results[1], requests[0].done

    for me, (got, back, same, sent, done) in enumerate(world.run(rank)):
        assert got == [(me - 1) % 6] * 5 and back == [(me + 1) % 6] * 5
        assert same and sent is None and done


def test_requests_test_then_wait(world):
    def rank(comm):
        x = np.full(1024, comm.rank, dtype=np.int32)
        request = comm.iallreduce(x, x)
        polls = 0
        while not request.test():
            comm.progress_for(1e-6)  # virtual time passes only while ranks block
            polls += 1
        assert request.wait() is x and comm.wait(request) is x  # complete: the same again
        return int(x[0]), polls > 0, comm.last_algorithm

    assert world.run(rank) == [(15, True, "innet")] * 6


def test_unwaited_requests_complete_before_the_rank_program_ends(world):
    def rank(comm):
        x = np.full(64, comm.rank + 1, dtype=np.int64)
        comm.iallreduce(x, x)  # never waited: the buffer stays pinned until it completes
        return x

    assert [int(x[0]) for x in world.run(rank)] == [21] * 6


def test_split_groups_run_their_own_collectives(world):
    def rank(comm):
        sub = comm.split(comm.rank % 2, key=-comm.rank)  # reversed order inside each group
        none = comm.split(-1)
        x = np.array([comm.rank], dtype=np.int32)
        sub.allreduce(x, x)
        return (sub.rank, sub.size, sub.world_rank(0), int(x[0]), none, sub.innet_status,
                sub.last_algorithm)

    results = world.run(rank)
    for me, (sub_rank, size, first, total, none, status, algorithm) in enumerate(results):
        group = [r for r in range(6) if r % 2 == me % 2]
        assert size == 3 and none is None
        assert sub_rank == sorted(group, reverse=True).index(me)
        assert first == max(group) and total == sum(group)
        assert status == "ok" and algorithm == "innet"


def test_dropped_sub_communicators_are_freed(world):
    def rank(comm):
        for round in range(5):  # more than the 3 a rank may hold at once
            sub = comm.split(0)
            sub.barrier()
            del sub
            gc.collect()
        return "ok"

    assert world.run(rank) == ["ok"] * 6


def test_allreduce_loc(world):
    def rank(comm):
        pairs = np.zeros(3, dtype=inca.loc_dtype("f64"))
        pairs["value"] = [comm.rank % 3, -comm.rank, 5.0]
        pairs["index"] = comm.rank
        low = comm.allreduce_loc(pairs, op="minloc")
        high = comm.allreduce_loc(pairs, op="maxloc")
        return low.tolist(), high.tolist()

    low, high = world.run(rank)[0]
    assert low == [(0.0, 0), (-5.0, 5), (5.0, 0)]
    assert high == [(2.0, 2), (0.0, 0), (5.0, 0)]


def test_clock_and_progress(world):
    def rank(comm):
        start, start_ps = comm.now(), comm.now_ps()
        comm.progress_for(2e-6)
        return comm.now() - start, comm.now_ps() - start_ps

    for seconds, picos in world.run(rank):
        assert picos >= 2_000_000 and abs(seconds - picos * 1e-12) < 1e-15


def test_world_reports():
    world = inca.World(ranks=16, link_gbps=200, latency_ns=300, hosts_per_leaf=4)
    assert world.size == 16 and world.tree_levels == 2 and world.innet_status == "ok"
    assert world.options["link_gbps"] == "200" and world.options["latency_ns"] == "300"
    assert "leaf" in world.describe() and "tree" in world.describe()
    before = world.stats()
    world.run(lambda comm: comm.allreduce(np.ones(1 << 16, np.float32), algorithm="innet"))
    after = world.stats()
    assert after["switch_contributions"] > before["switch_contributions"]
    assert world.nic_tx_bytes(3) > 1 << 18  # the buffer, once up
    assert world.now() > 0 and repr(world).startswith("inca.World(ranks=16")


def test_reproducible_default_and_caps():
    world = inca.World(ranks=4, topology="star", reproducible=True, switch_ops=["sum", "max"])

    def rank(comm):
        return comm.caps, comm.innet_payload_bytes

    caps, payload = world.run(rank)[0]
    assert caps["ops"] == ["sum", "max"] and "f32" in caps["dtypes"] and payload > 0
    assert world.options["reproducible"] == "1"


def test_hierarchical_algorithm_splits_underneath():
    world = inca.World(ranks=8, hierarchical_group=4)

    def rank(comm):
        x = np.full(100, comm.rank, np.float64)
        comm.allreduce(x, x, algorithm="hierarchical")
        return float(x[0]), comm.last_algorithm

    assert world.run(rank) == [(28.0, "hierarchical")] * 8
