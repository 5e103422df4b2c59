// In-network all-reduce: every rank streams its buffer up the communicator's
// aggregation tree and receives the reduced result from the root's multicast
// (SHARP / SwitchML). Every NIC sends and receives the buffer once. Cost:
// docs/model.md, "innet".
#pragma once

#include "inca/algorithm.hpp"

namespace inca::algorithms {

Status innet_allreduce(Communicator& comm, const AllreduceArgs& args);

}  // namespace inca::algorithms
