// Ring reduce-scatter: the first half of the ring all-reduce. The send buffer
// holds p blocks; in p-1 steps each rank receives one partially reduced block
// from its left neighbour, adds its own contribution and passes it right, so
// that block r ends, fully reduced, on rank r. Each NIC sends (p-1)/p of the
// send buffer. Blocks move whole (not pipelined in chunks like the ring
// all-reduce). Cost: docs/model.md, "Other collectives".
#pragma once

#include <cstddef>

#include "inca/communicator.hpp"

namespace inca::algorithms {

/// recv (recvcount elements) = op over ranks of block `rank` of send
/// (size() x recvcount elements).
Status ring_reduce_scatter(Communicator& comm, const void* send, void* recv, std::size_t recvcount,
                           Dtype dtype, ReduceOp op);

}  // namespace inca::algorithms
