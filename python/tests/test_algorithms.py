"""All-reduce algorithms written in Python: registered, run by name (blocking
and non-blocking, on the simulator and the live fabric), benchmarked like a
built-in by inca.bench and by `inca bench --plugin FILE.py`."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import inca
from conftest import BUILD, ROOT, as_buffer, ops_of, reduce_reference, same, values

sys.path.insert(0, str(ROOT / "examples" / "python"))
import star_allreduce  # noqa: E402  (registers py_star and py_innet_or_star)


@pytest.mark.parametrize("ranks", [1, 3, 8])
@pytest.mark.parametrize("algorithm", ["py_star", "py_innet_or_star"])
def test_python_algorithm_exact_on_every_dtype(ranks, algorithm):
    world = inca.World(ranks=ranks, switch_dtypes=["f32", "i32", "u8"])
    cases = [(d, op) for d in inca.dtypes() for op in ops_of(d)]
    wanted = {(d, op): reduce_reference(d, op, [values(d, op, r, 700) for r in range(ranks)])
              for d, op in cases}

    def rank(comm):
        bad = []
        for d, op in cases:
            kw = {"dtype": "bf16"} if d == "bf16" else {}
            out = comm.allreduce(as_buffer(d, values(d, op, comm.rank, 700)), op=op,
                                 algorithm=algorithm, **kw)
            if comm.last_algorithm != algorithm or not same(d, out, wanted[(d, op)]):
                bad.append((d, op, comm.last_algorithm))
        return bad

    assert world.run(rank) == [[]] * ranks


def test_nonblocking_in_place_and_on_the_live_fabric():
    for world in (inca.World(ranks=4, topology="star"),
                  inca.World(ranks=4, topology="star", fabric="live")):
        def rank(comm):
            x = np.arange(10, dtype=np.int64) + comm.rank
            request = comm.iallreduce(x, x, algorithm="py_star")
            other = comm.allreduce(np.ones(3, np.float32), algorithm="py_innet_or_star")
            request.wait()
            return x.tolist(), other.tolist()

        for got in world.run(rank):
            assert got == ((np.arange(10) * 4 + 6).tolist(), [4.0] * 3)


def test_world_default_algorithm():
    world = inca.World(ranks=3, topology="star", algorithm="py_star")

    def rank(comm):
        comm.allreduce(np.ones(4, np.int32))
        return comm.last_algorithm

    assert world.run(rank) == ["py_star"] * 3


def test_errors_in_a_python_algorithm_fail_the_collective():
    def broken(comm, call):
        if comm.rank == 1:
            raise ZeroDivisionError("my bug")
        comm.barrier()

    def no_resource(comm, call):
        raise inca.NoResource("out of slots")

    inca.register_allreduce("test_broken", broken)
    inca.register_allreduce("test_no_resource", no_resource)
    world = inca.World(ranks=2, topology="star")

    def rank(comm):
        out = []
        for name in ("test_broken", "test_no_resource"):
            try:
                comm.allreduce(np.ones(2, np.float32), algorithm=name)
                out.append(None)
            except inca.Error as e:
                out.append((type(e).__name__, str(e)))
        return out

    results = world.run(rank)
    kind, message = results[1][0]
    assert kind == "Internal"
    assert "ZeroDivisionError: my bug" in message and "test_algorithms.py" in message
    assert all(r[1][0] == "NoResource" and "out of slots" in r[1][1] for r in results)


def test_registering_again_replaces_and_built_ins_are_kept():
    inca.register_allreduce("test_swap", lambda comm, call: np.copyto(call.recv, call.send))
    world = inca.World(ranks=2, topology="star")
    run = lambda: world.run(lambda c: c.allreduce(np.ones(2, np.int32), algorithm="test_swap")
                            .tolist())
    assert run() == [[1, 1]] * 2  # wrong on purpose: a copy, no reduction
    inca.register_allreduce("test_swap", star_allreduce.star)
    assert run() == [[2, 2]] * 2
    with pytest.raises(inca.InvalidArgument, match="ring"):
        inca.register_allreduce("ring", star_allreduce.star)
    with pytest.raises(inca.InvalidArgument, match="uses_switches"):
        inca.register_allreduce("test_swap", star_allreduce.star, uses_switches=True)
    assert "test_swap" in inca.algorithms()


def test_an_algorithm_may_not_keep_its_buffers():
    kept = []
    inca.register_allreduce("test_keeper",
                            lambda comm, call: (kept.append(call.recv), star_allreduce.star(comm,
                                                                                          call)))
    world = inca.World(ranks=2, topology="star")

    def rank(comm):
        try:
            comm.allreduce(np.ones(2, np.int32), algorithm="test_keeper")
        except inca.InvalidArgument as e:
            return str(e)

    assert all("kept a reference" in r for r in world.run(rank))


def test_bench_runs_a_python_algorithm_like_a_built_in():
    rows = inca.bench(ranks=8, topology="star", min_bytes="1K", max_bytes="64K", step_factor=8,
                      algos=["py_star", "innet", "ring"])
    assert [r["algorithm"] for r in rows] == ["py_star", "innet", "ring"] * 3
    assert all(r["check"] == "exact" for r in rows)
    star = {r["bytes"]: r for r in rows if r["algorithm"] == "py_star"}
    ring = {r["bytes"]: r for r in rows if r["algorithm"] == "ring"}
    # Rank 0's NIC sends the result to 7 peers, 7 x 64 KiB, where ring sends
    # 2(n-1)/n x 64 KiB (headers aside).
    assert star[64 << 10]["nic_tx_bytes"] > 3.5 * ring[64 << 10]["nic_tx_bytes"]


def test_bench_payload_free_python_algorithm():
    rows = inca.bench(ranks=64, min_bytes="64M", max_bytes="64M", algos=["py_innet_or_star"])
    assert rows[0]["check"] == "timing" and rows[0]["algorithm"] == "py_innet_or_star"


def inca_command():
    binary = BUILD / "bin" / "inca"
    if not binary.exists():
        pytest.skip(f"{binary} was not built")
    return str(binary)


def test_inca_bench_plugin_runs_a_python_file():
    env = dict(os.environ, INCA_PYTHON=sys.executable)
    out = subprocess.run([inca_command(), "bench", "--plugin",
                          str(ROOT / "examples" / "python" / "star_allreduce.py"),
                          "--algos", "py_star,ring", "--ranks", "4", "--topology", "star",
                          "-b", "1K", "-e", "4K", "--format", "csv"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("bytes,count") and len(lines) == 1 + 3 * 2
    assert sum(",py_star," in line for line in lines) == 3


def test_python_m_inca_bench():
    out = subprocess.run([sys.executable, "-m", "inca", "bench", "--plugin",
                          str(ROOT / "examples" / "python" / "star_allreduce.py"),
                          "--algos", "py_star", "--ranks", "2", "-b", "8", "-e", "8"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "py_star" in out.stdout and "exact" in out.stdout
