"""PyTorch's DistributedDataParallel over inca: a communication hook that
sends each gradient bucket through an inca all-reduce (in-network, ring, or
whatever ``algorithm`` names), in place, without copies::

    import torch, torch.distributed as dist
    import inca, inca.torch

    def train(comm):                        # inca.ProcessWorld().run(train)
        # DDP wants a process group for its own bookkeeping (the parameter
        # check and broadcast at construction); the gradients go through inca.
        dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        model = torch.nn.parallel.DistributedDataParallel(net)
        state = inca.torch.HookState(comm, algorithm="innet")
        model.register_comm_hook(state, inca.torch.allreduce_hook)
        ...

The hook averages over ``comm.size`` ranks (as DDP's default hook does over
its process group). It runs the all-reduce inside the hook, so it does not
overlap the rest of the backward pass; ``state.seconds`` is the time spent
in it. Buckets must be CPU tensors (inca's fabrics carry host memory);
bf16 buckets travel as their raw bits.
"""

# No `from __future__ import annotations`: DDP's register_comm_hook compares
# the hook's annotations with dist.GradBucket and Future[Tensor] themselves.
import time
from collections import Counter
from typing import Any, Optional

import numpy as np
import torch
import torch.distributed as dist

from . import _native
from ._errors import InvalidArgument


class HookState:
    """What allreduce_hook uses: the rank's communicator and the collective's
    options; it counts what the hook did (``calls``, ``bytes``,
    ``seconds`` in the all-reduce, ``algorithms`` that ran)."""

    def __init__(self, comm: "_native.Communicator", algorithm: Optional[str] = None,
                 reproducible: Optional[bool] = None, average: bool = True) -> None:
        self.comm = comm
        self.algorithm = algorithm
        self.reproducible = reproducible
        self.average = average
        self.calls = 0
        self.bytes = 0
        self.seconds = 0.0
        self.algorithms: Counter = Counter()

    def __setstate__(self, state: dict) -> None:  # DDP may copy hook states
        self.__dict__.update(state)


def as_array(tensor: torch.Tensor):
    """A numpy view of a CPU tensor's memory (no copy) and the inca dtype
    name to pass for it (``"bf16"`` for bfloat16, else None)."""
    if tensor.device.type != "cpu":
        raise InvalidArgument(f"inca.torch: buckets must be CPU tensors, not {tensor.device}")
    if not tensor.is_contiguous():
        raise InvalidArgument("inca.torch: the tensor is not contiguous")
    if tensor.dtype == torch.bfloat16:
        return tensor.detach().view(torch.int16).numpy().view(np.uint16), "bf16"
    return tensor.detach().numpy(), None


def allreduce_hook(state: Any, bucket: dist.GradBucket) -> torch.futures.Future[torch.Tensor]:
    """DDP communication hook: all-reduces ``bucket.buffer()`` in place over
    ``state.comm`` (a HookState, or a bare Communicator), averages it, and
    returns a completed future of it. Raises the inca.Error of a failed
    all-reduce (DDP then fails the backward pass)."""
    if not isinstance(state, HookState):
        state = HookState(state)
    tensor = bucket.buffer()
    array, dtype = as_array(tensor)
    start = time.perf_counter()
    state.comm.allreduce(array, array, algorithm=state.algorithm,
                         reproducible=state.reproducible, dtype=dtype)
    state.seconds += time.perf_counter() - start
    state.calls += 1
    state.bytes += tensor.numel() * tensor.element_size()
    state.algorithms[state.comm.last_algorithm] += 1
    if state.average:
        tensor.div_(state.comm.size)
    future: torch.futures.Future[torch.Tensor] = torch.futures.Future()
    future.set_result(tensor)
    return future
