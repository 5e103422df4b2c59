"""Shared helpers of the inca Python tests: inputs whose reduction is exact
in any order, and reference reductions computed with numpy in rank order."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

import inca

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("INCA_BUILD_DIR", ROOT / "build"))

INTEGER = ["i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64"]
FLOATING = ["f16", "bf16", "f32", "f64"]
NUMPY = {"i8": np.int8, "u8": np.uint8, "i16": np.int16, "u16": np.uint16, "i32": np.int32,
         "u32": np.uint32, "i64": np.int64, "u64": np.uint64, "f16": np.float16,
         "bf16": np.float32, "f32": np.float32, "f64": np.float64}
BITWISE = ["band", "bor", "bxor"]


def ops_of(dtype: str):
    """Every op inca defines for `dtype` (bitwise ones need integers)."""
    return [op for op in inca.ops() if dtype in INTEGER or op not in BITWISE]


def values(dtype: str, op: str, rank: int, count: int) -> np.ndarray:
    """Rank `rank`'s input: small integers whose reduction over up to 64
    ranks is exact in `dtype` in any order (integers wrap, which is exact
    too). The values in the numpy type that holds them (bf16: float32)."""
    i = np.arange(count, dtype=np.int64)
    if op == "prod" and dtype in FLOATING:
        v = np.where((i + rank) % 3 == 0, -1, 1)  # products stay +-1
    elif op in ("land", "lor", "lxor"):
        v = (i * 5 + rank * 3) % 3  # 0, 1, 2: some zeros
    else:
        v = (i * 7 + rank * 3) % 5 - (2 if dtype[0] in "if" else 0)
    if dtype[0] == "u" and op not in ("land", "lor", "lxor"):
        # The top bit set on every other rank's element: read as signed, they
        # would order (min, max) differently.
        top = np.where((i + rank) % 2 == 0, 1 << (8 * np.dtype(NUMPY[dtype]).itemsize - 1), 0)
        return v.astype(NUMPY[dtype]) | top.astype(NUMPY[dtype])
    return v.astype(NUMPY[dtype])


def as_buffer(dtype: str, v: np.ndarray) -> np.ndarray:
    """What inca takes: bf16 as the uint16 bits of the values."""
    return inca.bf16_from_float32(v) if dtype == "bf16" else np.ascontiguousarray(v)


def reduce_reference(dtype: str, op: str, inputs) -> np.ndarray:
    """op over ranks, folded in rank order with numpy (integers wrap)."""
    acc = inputs[0].copy()
    for x in inputs[1:]:
        with np.errstate(over="ignore"):
            if op == "sum":
                acc = (acc + x).astype(acc.dtype)
            elif op == "prod":
                acc = (acc * x).astype(acc.dtype)
            elif op == "min":
                acc = np.minimum(acc, x)
            elif op == "max":
                acc = np.maximum(acc, x)
            elif op == "band":
                acc = acc & x
            elif op == "bor":
                acc = acc | x
            elif op == "bxor":
                acc = acc ^ x
            else:
                logic = {"land": np.logical_and, "lor": np.logical_or, "lxor": np.logical_xor}[op]
                acc = logic(acc != 0, x != 0).astype(acc.dtype)
    return acc


def same(dtype: str, got: np.ndarray, want_values: np.ndarray) -> bool:
    """Bit-for-bit equality of an inca result with the reference values."""
    return np.array_equal(np.asarray(got).view(np.uint8),
                          as_buffer(dtype, want_values).view(np.uint8))


@pytest.fixture(scope="session")
def build_dir() -> pathlib.Path:
    return BUILD
