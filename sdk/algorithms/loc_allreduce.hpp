// MINLOC / MAXLOC all-reduce on hosts: the binomial reduce to rank 0 with the
// pair reduction, then the binomial broadcast. 2 lg p steps of the whole
// message, like binomial_tree_allreduce; pairs are small in practice (one per
// quantity being located), so latency, not bandwidth, matters.
#pragma once

#include <cstddef>

#include "inca/communicator.hpp"
#include "inca/loc.hpp"

namespace inca::algorithms {

/// recv = the pairwise winner over ranks of send (arguments validated by the
/// communicator). send may equal recv.
Status loc_allreduce(Communicator& comm, const void* send, void* recv, std::size_t count,
                     LocDtype dtype, LocOp op);

}  // namespace inca::algorithms
