"""Every way a call fails: the inca.Error subclass of each status code, with
its message; a rank program that raises; communicators used where they
cannot be."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import inca

CODES = {"invalid_argument": inca.InvalidArgument, "not_supported": inca.NotSupported,
         "no_resource": inca.NoResource, "quota_exceeded": inca.QuotaExceeded,
         "no_tree": inca.NoTree, "lock_failed": inca.LockFailed,
         "lock_denied": inca.LockDenied, "timeout": inca.Timeout,
         "malformed_packet": inca.MalformedPacket, "mismatch": inca.Mismatch,
         "config_error": inca.ConfigError, "io_error": inca.IoError, "internal": inca.Internal}


@pytest.mark.parametrize("code", sorted(CODES))
def test_each_status_code_raises_its_class(code):
    with pytest.raises(CODES[code]) as caught:
        inca._native._raise_status(code, "what went wrong")
    error = caught.value
    assert isinstance(error, inca.Error)
    assert (error.code, error.message, str(error)) == (code, "what went wrong", "what went wrong")
    assert type(error).__module__ == "inca"


def test_pythonic_bases():
    assert issubclass(inca.InvalidArgument, ValueError)
    assert issubclass(inca.Timeout, TimeoutError)


def first_error(world, fn):
    """Runs fn(comm) on every rank; rank 0's exception (type, message)."""
    def rank(comm):
        try:
            fn(comm)
        except inca.Error as e:
            return type(e), str(e)
        return None, ""
    return world.run(rank)[0]


@pytest.fixture
def world():
    return inca.World(ranks=4, topology="star")


def test_invalid_arguments(world):
    x = np.ones(4, np.float32)
    calls = {
        "op": (lambda c: c.allreduce(x, op="avg"), "unknown op 'avg'"),
        "dtype": (lambda c: c.allreduce(x, dtype="f128"), "unknown dtype 'f128'"),
        "algorithm": (lambda c: c.allreduce(x, algorithm="nope"), "nope"),
        "root": (lambda c: c.broadcast(x, root=9), "root"),
        "tag": (lambda c: c.send(x, 1, tag=1 << 20), "tag"),
    }
    for name, (call, text) in calls.items():
        kind, message = first_error(world, call)
        assert kind is inca.InvalidArgument, (name, kind, message)
        assert text in message, (name, message)


def test_not_supported_pairs_and_switches():
    world = inca.World(ranks=4, topology="star", switch_dtypes=["f32", "i32"])

    def fn(comm):
        comm.allreduce(np.ones(4, np.float64), algorithm="innet")

    kind, message = first_error(world, fn)
    assert kind is inca.NotSupported and "f64" in message
    kind, message = first_error(world, lambda c: c.allreduce(np.ones(4, np.float32), op="band"))
    assert kind is inca.NotSupported and "band" in message

    def auto(comm):  # "auto" falls back to a host algorithm and says why
        out = comm.allreduce(np.ones(4, np.float64))
        return comm.last_algorithm, comm.last_note, float(out[0])

    algorithm, note, value = world.run(auto)[0]
    assert algorithm != "innet" and "f64" in note and value == 4.0


def test_no_resource_when_sub_communicators_run_out(world):
    def fn(comm):
        held = [comm.split(0) for _ in range(3)]
        assert all(h is not None for h in held)
        comm.split(0)

    kind, message = first_error(world, fn)
    assert kind is inca.NoResource


def test_timeout_when_a_peer_never_sends(world):
    def fn(comm):
        if comm.rank == 1:
            comm.recv(np.zeros(4, np.int32), 0)

    def rank(comm):
        try:
            fn(comm)
        except inca.Timeout as e:
            return "timeout", str(e)
        return "ok", ""

    results = world.run(rank)
    assert results[1][0] == "timeout"
    assert [r[0] for r in results if r is not results[1]] == ["ok"] * 3


def test_mismatched_collectives(world):
    def rank(comm):
        dtype = np.float32 if comm.rank == 0 else np.int32
        try:
            comm.allreduce(np.ones(4, dtype), algorithm="innet")
        except inca.Error as e:
            return type(e)
        return None

    assert inca.Mismatch in world.run(rank)


def test_bad_world_options():
    with pytest.raises(inca.InvalidArgument, match="unknown option 'linkgbps'"):
        inca.World(ranks=4, linkgbps=10)
    with pytest.raises(inca.InvalidArgument, match="link-gbps"):
        inca.World(ranks=4, link_gbps="fast")
    with pytest.raises(inca.ConfigError, match="INCA_WINDOW='0'"):
        inca.World(ranks=4, window=0)
    with pytest.raises(inca.InvalidArgument, match="inca launch"):
        inca.World(ranks=4, fabric="udp")
    with pytest.raises(inca.InvalidArgument):
        inca.World(ranks=4, switch_dtypes=["f99"])


def test_bad_environment_knob(monkeypatch):
    monkeypatch.setenv("INCA_WINDOW", "many")
    with pytest.raises(inca.ConfigError, match="INCA_WINDOW='many'"):
        inca.World(ranks=2)


def test_process_world_outside_a_launch(monkeypatch):
    for name in ("INCA_FABRIC", "INCA_RANK", "INCA_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert not inca.launched()
    with pytest.raises(inca.InvalidArgument, match="INCA_"):
        inca.ProcessWorld()


def test_a_raising_rank_fails_run_naming_it_and_frees_the_others():
    world = inca.World(ranks=16)

    def rank(comm):
        x = np.ones(64, np.float32)
        comm.allreduce(x, x)
        if comm.rank == 5:
            raise KeyError("rank five's bug")
        comm.allreduce(x, x)  # the others time out waiting for rank 5
        return "unreachable"

    with pytest.raises(inca.RankError) as caught:
        world.run(rank)
    error = caught.value
    assert error.rank == 5
    assert "rank 5 raised KeyError" in str(error)
    assert isinstance(error.__cause__, KeyError)
    assert set(error.errors) == set(range(16))  # every rank ended
    assert all(isinstance(e, inca.Timeout) for r, e in error.errors.items() if r != 5)
    with pytest.raises(inca.InvalidArgument, match="make a new inca.World"):
        world.run(lambda comm: None)


def test_run_arguments(world):
    with pytest.raises(inca.InvalidArgument, match="not callable"):
        world.run(42)

    def nested(comm):
        world.run(lambda c: None)

    with pytest.raises(inca.RankError) as caught:
        world.run(nested)
    assert "running already" in str(caught.value.__cause__)


def test_communicators_are_for_their_rank_program_only():
    world = inca.World(ranks=2, topology="star")
    kept = []

    def rank(comm):
        kept.append(comm)
        seen = []
        helper = threading.Thread(target=lambda: seen.append(catch(lambda: comm.barrier())))
        helper.start()
        helper.join()
        return seen[0]

    def catch(call):
        try:
            call()
        except inca.InvalidArgument as e:
            return str(e)
        return "no error"

    assert all("on its thread" in r for r in world.run(rank))
    with pytest.raises(inca.InvalidArgument, match="has ended"):
        kept[0].barrier()
    with pytest.raises(inca.InvalidArgument, match="has ended"):
        kept[0].rank


def test_bad_fabric_files(tmp_path):
    with pytest.raises(inca.NotSupported, match="no preset 'nope'"):
        inca.World(preset="nope")
    with pytest.raises(inca.InvalidArgument, match="says the shape"):
        inca.World(preset="default-100g", spines=4)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nhosts:\n  - name: h0\n    latencyy: 3ns\n")
    with pytest.raises(inca.ConfigError, match="bad.yaml:4"):
        inca.World(fabric_file=str(bad))


def test_failed_requests_raise_at_wait(world):
    def rank(comm):
        if comm.rank != 1:
            return "skip"
        request = comm.irecv(np.zeros(4, np.int32), 0)
        try:
            request.wait()
        except inca.Timeout:
            return ("timeout", request.done)
        return "no error"

    assert world.run(rank)[1] == ("timeout", True)


def test_plugin_and_bench_errors():
    with pytest.raises(inca.IoError, match="cannot load plugin"):
        inca.load_plugin("/nonexistent/libplugin.so")
    with pytest.raises(inca.InvalidArgument, match="collective"):
        inca.bench(collective="alltoall")
