"""numpy buffers without copies, and every check on them: contiguity, dtype,
size, byte order, alignment, writability, bf16's uint16 view."""

from __future__ import annotations

import numpy as np
import pytest

import inca


@pytest.fixture(scope="module")
def world():
    return inca.World(ranks=4, topology="star")


def on_rank0(world, fn):
    """fn(comm) on every rank; returns rank 0's result (or raises its error)."""
    return world.run(fn)[0]


def test_results_are_written_in_place(world):
    def rank(comm):
        send = np.full(4096, comm.rank + 1, dtype=np.float64)
        recv = np.zeros_like(send)
        address = recv.__array_interface__["data"][0]
        out = comm.allreduce(send, recv)
        in_place = np.arange(16, dtype=np.int32) * (comm.rank + 1)
        same = comm.allreduce(in_place, in_place)
        return (out is recv, recv.__array_interface__["data"][0] == address, float(recv[7]),
                same is in_place, int(in_place[3]))

    for got in world.run(rank):
        assert got == (True, True, 10.0, True, 3 * 10)


def test_a_view_of_a_larger_array_writes_through(world):
    def rank(comm):
        big = np.zeros((4, 256), dtype=np.int64)
        row = big[2]  # a contiguous view: the result lands in big
        row[:] = comm.rank
        comm.allreduce(row, row)
        return int(big[2, 0]), int(big[1, 0]), np.shares_memory(row, big)

    assert on_rank0(world, rank) == (6, 0, True)


def test_recv_none_allocates_like_send(world):
    def rank(comm):
        x = np.ones((8, 3), dtype=np.uint16)
        y = comm.allreduce(x)
        g = comm.allgather(x)
        return y.shape, y.dtype.str, g.shape, int(y[0, 0])

    assert on_rank0(world, rank) == ((8, 3), np.dtype(np.uint16).str, (4, 8, 3), 4)


def test_other_buffer_types(world):
    def rank(comm):
        data = bytearray(bytes([comm.rank + 1] * 8))
        comm.allreduce(data, data)  # bytes are u8
        back = bytearray(8)
        comm.allreduce(bytes([1] * 8), back)  # a read-only send is fine
        return bytes(data), bytes(back)

    assert on_rank0(world, rank) == (bytes([10] * 8), bytes([4] * 8))


def test_bf16_travels_as_uint16_bits(world):
    def rank(comm):
        x = inca.bf16_from_float32(np.array([1.5, -2.0, 0.25, 3.0], np.float32) * (comm.rank + 1))
        out = comm.allreduce(x, dtype="bf16")
        mx = comm.allreduce(x, op="max", dtype="bf16")
        return inca.bf16_to_float32(out).tolist(), inca.bf16_to_float32(mx).tolist()

    total, biggest = on_rank0(world, rank)
    assert total == [15.0, -20.0, 2.5, 30.0]
    assert biggest == [6.0, -2.0, 1.0, 12.0]  # max of the values, not of the raw bits


def test_bf16_conversion_rounds_like_inca():
    values = np.array([1.0, 1.00390625, 1.01171875, -3.3, np.inf, np.nan, 1e-40], np.float32)
    bits = inca.bf16_from_float32(values)
    assert bits.dtype == np.uint16
    assert bits[0] == 0x3F80
    assert bits[1] == 0x3F80  # a tie rounds to even
    assert bits[2] == 0x3F82  # 1.01171875 = 0x3F81 + half: up to even
    assert np.isnan(inca.bf16_to_float32(bits[5:6]))[0]
    assert inca.bf16_to_float32(bits[:1])[0] == 1.0


BAD_BUFFERS = [
    ("strided", lambda: np.zeros(16, np.float32)[::2], "not C-contiguous"),
    ("fortran", lambda: np.zeros((4, 4), np.float32, order="F"), "not C-contiguous"),
    ("byte order", lambda: np.zeros(4, ">f4"), "byte order"),
    ("misaligned", lambda: np.frombuffer(bytearray(40), np.float64, 4, offset=1), "not aligned"),
    ("bool", lambda: np.zeros(4, bool), "no inca dtype"),
    ("complex", lambda: np.zeros(4, np.complex64), "no inca dtype"),
    ("object", lambda: [1.0, 2.0], "no buffer"),
    ("none", lambda: None, "None"),
]


@pytest.mark.parametrize("name,make,message", BAD_BUFFERS, ids=[b[0] for b in BAD_BUFFERS])
def test_bad_send_buffers_raise_before_anything_is_sent(world, name, make, message):
    def rank(comm):
        try:
            comm.allreduce(make())
        except inca.InvalidArgument as e:
            # the communicator is still in step: a collective afterwards works
            x = np.ones(2, np.int32)
            comm.allreduce(x, x)
            return str(e), int(x[0])
        return "no error", 0

    text, after = on_rank0(world, rank)
    assert message in text and "allreduce: send" in text
    assert after == 4


@pytest.mark.parametrize("case", ["size", "dtype", "readonly", "overlap", "bf16 on f32"])
def test_bad_recv_buffers(world, case):
    def rank(comm):
        send = np.zeros(8, np.float32)
        try:
            if case == "size":
                comm.allreduce(send, np.zeros(7, np.float32))
            elif case == "dtype":
                comm.allreduce(send, np.zeros(8, np.float64))
            elif case == "readonly":
                out = np.zeros(8, np.float32)
                out.flags.writeable = False
                comm.allreduce(send, out)
            elif case == "overlap":
                both = np.zeros(12, np.float32)
                comm.allreduce(both[:8], both[4:])
            else:
                comm.allreduce(send, dtype="bf16")
        except inca.InvalidArgument as e:
            return str(e)
        return "no error"

    text = on_rank0(world, rank)
    expected = {"size": "7 elements", "dtype": "f64", "readonly": "read-only",
                "overlap": "overlap", "bf16 on f32": "bf16"}[case]
    assert expected in text, text


def test_layout_checks_of_the_other_collectives(world):
    def rank(comm):
        errors = []
        for call in (lambda: comm.reduce_scatter(np.zeros(6, np.int32)),  # 6 % 4 ranks
                     lambda: comm.allgather(np.zeros(3, np.int32), np.zeros(3, np.int32)),
                     lambda: comm.allreduce(np.zeros(3, np.int32), count=3),
                     lambda: comm.broadcast(None)):
            try:
                call()
                errors.append(None)
            except inca.InvalidArgument as e:
                errors.append(str(e))
        return errors

    errors = on_rank0(world, rank)
    assert "not a multiple of the 4 ranks" in errors[0]
    assert "needs 12" in errors[1]
    assert "payload-free" in errors[2]
    assert "None" in errors[3]


def test_payload_free_world_takes_counts():
    world = inca.World(ranks=8, timing_only=True, topology="star")

    def rank(comm):
        comm.allreduce(None, count=1 << 20, dtype="f32", algorithm="innet")
        return comm.timing_only, comm.last_algorithm

    assert world.run(rank)[0] == (True, "innet")
    assert world.nic_tx_bytes(0) > 4 << 20
