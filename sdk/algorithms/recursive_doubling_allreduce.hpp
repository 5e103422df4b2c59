// Recursive-doubling all-reduce: lg p rounds in which partners at distance
// 1, 2, 4, ... exchange their whole buffers and reduce. Latency-optimal
// (lg p steps), bandwidth-poor (each NIC sends S lg p). Non-power-of-two rank
// counts fold the extra ranks in first. Cost: docs/model.md.
#pragma once

#include "inca/algorithm.hpp"

namespace inca::algorithms {

Status recursive_doubling_allreduce(Communicator& comm, const AllreduceArgs& args);

}  // namespace inca::algorithms
