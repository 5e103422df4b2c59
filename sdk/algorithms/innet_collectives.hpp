// Reduce, broadcast, barrier, reduce-scatter and all-gather built on the one
// switch primitive, the in-network all-reduce over the communicator's tree.
// They share that primitive, so they share one file. Each costs every NIC one
// upload of what the rank holds and one download of what it keeps: in
// broadcast and all-gather the chunks it holds none of go up as header-only
// identity contributions, as SHARP multicasts from the data's owner; in
// reduce and reduce-scatter the chunks it keeps none of come down as headers
// alone, as SHARP's reduce answers the root (ElementRange). docs/model.md,
// "Other collectives", gives the costs.
#pragma once

#include <cstddef>

#include "inca/communicator.hpp"

namespace inca::algorithms {

/// All-reduce whose result only `root` keeps (recv may be null elsewhere).
Status innet_reduce(Communicator& comm, const void* send, void* recv, std::size_t count,
                    Dtype dtype, ReduceOp op, int root, bool reproducible);
/// Bitwise-or all-reduce of the bytes, to which non-roots send identity headers.
Status innet_broadcast(Communicator& comm, void* buf, std::size_t bytes, int root);
/// A one-byte all-reduce: nobody gets its result before everybody sent.
Status innet_barrier(Communicator& comm);
/// All-reduce of the whole send buffer; each rank keeps its block.
Status innet_reduce_scatter(Communicator& comm, const void* send, void* recv, std::size_t recvcount,
                            Dtype dtype, ReduceOp op, bool reproducible);
/// Bitwise-or all-reduce of the p-block buffer in which each rank filled its
/// own block and zeroed the others; only its block's chunks carry data.
Status innet_allgather(Communicator& comm, const void* send, void* recv, std::size_t block_bytes);

}  // namespace inca::algorithms
