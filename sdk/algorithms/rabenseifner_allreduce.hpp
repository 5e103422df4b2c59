// Rabenseifner's all-reduce: a reduce-scatter by recursive halving, then an
// all-gather by recursive doubling. 2 lg p steps, and each NIC sends only
// 2(p-1)/p of the buffer like the ring. Non-power-of-two rank counts fold the
// extra ranks in first. Cost: docs/model.md.
#pragma once

#include "inca/algorithm.hpp"

namespace inca::algorithms {

Status rabenseifner_allreduce(Communicator& comm, const AllreduceArgs& args);

}  // namespace inca::algorithms
