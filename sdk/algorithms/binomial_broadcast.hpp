// Binomial-tree broadcast from a root: ceil(lg p) rounds; in round k every
// rank that holds the message sends it to the rank 2^k above it (relative to
// the root). Cost: docs/model.md, "Other collectives".
#pragma once

#include <cstddef>

#include "inca/communicator.hpp"

namespace inca::algorithms {

/// Copies `bytes` of `buf` at `root` into `buf` on every rank.
Status binomial_broadcast(Communicator& comm, void* buf, std::size_t bytes, int root);

}  // namespace inca::algorithms
