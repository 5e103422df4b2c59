"""All-reduce algorithms written in Python, registered with inca like the
built-ins (the Python twin of examples/custom_algorithm.cpp):

- ``py_star``: every rank sends its buffer to rank 0, which reduces them in
  rank order and sends the result back (2(n-1) messages through rank 0's NIC);
- ``py_innet_or_star``: the switch primitive when the tree can reduce the
  pair, else ``py_star``.

Use it from Python::

    import inca, star_allreduce             # registers both
    world.run(lambda comm: comm.allreduce(x, algorithm="py_star"))
    inca.bench(algos=["py_star", "innet", "ring"], max_bytes="1M")

or as a plugin of the command (which runs it under Debian's python3)::

    build/bin/inca bench --plugin examples/python/star_allreduce.py --algos py_star,ring -e 1M
"""

from __future__ import annotations

import numpy as np

import inca

TAG = 1  # algorithms use user tags (0 .. 32767)


def star(comm: inca.Communicator, call: inca.AllreduceCall) -> None:
    """Gather to rank 0, reduce there, send the result back."""
    nbytes = call.count * inca.dtype_size(call.dtype)
    data = call.recv is not None  # None in payload-free mode: move sizes only
    if data:
        np.copyto(call.recv, call.send)
    if comm.rank != 0:
        comm.send(call.recv, 0, TAG, nbytes=None if data else nbytes)
        comm.recv(call.recv, 0, TAG, nbytes=None if data else nbytes)
        return
    incoming = np.empty_like(call.recv) if data else None
    for peer in range(1, comm.size):
        comm.recv(incoming, peer, TAG, nbytes=None if data else nbytes)
        comm.reduce_local(call.recv, incoming, call.op, dtype=call.dtype,
                          count=None if data else call.count)
    for peer in range(1, comm.size):
        comm.send(call.recv, peer, TAG, nbytes=None if data else nbytes)


def innet_or_star(comm: inca.Communicator, call: inca.AllreduceCall) -> None:
    """The switches' all-reduce when they can, else star."""
    if comm.innet_available:
        try:
            comm.innet_allreduce(call.send, call.recv, call.op, call.reproducible,
                                 dtype=call.dtype,
                                 count=None if call.recv is not None else call.count)
            return
        except inca.NotSupported:
            pass  # every rank sees it before anything is sent: all take the host path
    star(comm, call)


inca.register_allreduce("py_star", star, "Python example: gather to rank 0, send back")
inca.register_allreduce("py_innet_or_star", innet_or_star,
                        "Python example: switch all-reduce, else star", uses_switches=True)
