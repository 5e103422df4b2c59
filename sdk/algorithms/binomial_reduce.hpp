// Binomial-tree reduce to a root: ceil(lg p) rounds; in round k the ranks
// whose (root-relative) index has bit k set send their partial result to the
// rank 2^k below and drop out. Each NIC sends the message at most once; the
// root receives it lg p times. Cost: docs/model.md, "Other collectives".
#pragma once

#include <cstddef>
#include <functional>

#include "inca/communicator.hpp"

namespace inca::algorithms {

/// recv (significant at `root` only) = op over ranks of send. Arguments are
/// validated by the communicator.
Status binomial_reduce(Communicator& comm, const void* send, void* recv, std::size_t count,
                       Dtype dtype, ReduceOp op, int root);

/// Folds a child's message `in` into the partial result `acc` (null pointers
/// in payload-free mode).
using CombineFn = std::function<void(void* acc, const void* in)>;
/// The same tree over `bytes`-byte messages with the caller's combine (pairs
/// for MINLOC/MAXLOC); acc always holds the lower-ranked partial result.
Status binomial_reduce_with(Communicator& comm, const void* send, void* recv, std::size_t bytes,
                            int root, const CombineFn& combine);

}  // namespace inca::algorithms
