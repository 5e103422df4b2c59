"""inca: in-network collective aggregation (SHARP/SwitchML-style in-switch
all-reduce) from Python.

Rank programs are ordinary Python functions that receive a
:class:`Communicator`; buffers are numpy arrays used in place, without
copies; failures raise :class:`Error` subclasses; benchmarks come back as
rows that ``pandas.DataFrame(rows)`` reads::

    import numpy as np, inca

    world = inca.World(ranks=8, topology="star")

    def rank(comm):
        x = np.full(1024, comm.rank, dtype=np.float32)
        comm.allreduce(x, x)                     # in place; "auto": in-network when a tree exists
        return comm.last_algorithm, float(x[0])

    print(world.run(rank))                      # [('innet', 28.0), ...] by rank
    rows = inca.bench(ranks=64, min_bytes="1M", max_bytes="16M", algos=["innet", "ring"])

docs/python.md in the repository is the guide.
"""

from __future__ import annotations

import atexit as _atexit
import os as _os
import sys as _sys

from ._errors import (ConfigError, Error, Internal, InvalidArgument, IoError, LockDenied,
                      LockFailed, MalformedPacket, Mismatch, NoResource, NoTree, NotSupported,
                      QuotaExceeded, RankError, Timeout)

# RTLD_GLOBAL: C++ algorithm plugins (load_plugin) resolve the SDK's symbols
# in the module, as they do in the `inca` executable.
_flags = _sys.getdlopenflags()
_sys.setdlopenflags(_flags | _os.RTLD_GLOBAL)
try:
    from . import _native
finally:
    _sys.setdlopenflags(_flags)

from ._native import (AllreduceCall, Communicator, Finding, ProcessWorld, Request, Validation,
                      World, algorithms, describe, dtype_size, dtypes, launched, load_plugin,
                      loc_dtype, ops, register_allreduce, tree, validate)
from ._bench import bench
from ._bf16 import bf16_from_float32, bf16_to_float32

for _cls in (AllreduceCall, Communicator, Finding, ProcessWorld, Request, Validation, World):
    _cls.__module__ = "inca"  # as users name them
_atexit.register(_native._shutdown)

__all__ = [
    "World", "ProcessWorld", "Communicator", "Request", "AllreduceCall", "launched", "describe",
    "register_allreduce", "algorithms", "load_plugin", "bench", "dtypes", "dtype_size", "ops",
    "loc_dtype", "validate", "tree", "Finding", "Validation",
    "bf16_from_float32", "bf16_to_float32",
    "Error", "InvalidArgument", "NotSupported", "NoResource", "QuotaExceeded", "NoTree",
    "LockFailed", "LockDenied", "Timeout", "MalformedPacket", "Mismatch", "ConfigError", "IoError",
    "Internal", "RankError",
]
