// Binomial-tree all-reduce: a binomial reduce to rank 0 followed by a
// binomial broadcast. 2 lg p steps of the whole buffer; the classic baseline
// for small messages on fabrics without a switch tree. Cost: docs/model.md.
#pragma once

#include "inca/algorithm.hpp"

namespace inca::algorithms {

Status binomial_tree_allreduce(Communicator& comm, const AllreduceArgs& args);

}  // namespace inca::algorithms
