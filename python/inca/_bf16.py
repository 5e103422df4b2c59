"""bf16 has no numpy dtype: inca takes it as a uint16 array of its bits,
with ``dtype="bf16"`` on the call. These convert from and to float32 the way
inca's kernels do (round to nearest even; NaN stays a quiet NaN)."""

from __future__ import annotations

import numpy as np


def bf16_from_float32(values) -> np.ndarray:
    """The bf16 bits (uint16) nearest to each float32 value."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounded = ((bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
               >> np.uint32(16)).astype(np.uint16)
    nan = (bits & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000)
    quiet = ((bits >> np.uint32(16)) | np.uint32(0x40)).astype(np.uint16)
    return np.where(nan, quiet, rounded)


def bf16_to_float32(bits) -> np.ndarray:
    """The float32 value of each bf16 (exact)."""
    return (np.ascontiguousarray(bits, dtype=np.uint16).astype(np.uint32)
            << np.uint32(16)).view(np.float32)
