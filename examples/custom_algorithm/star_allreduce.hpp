// Two all-reduce algorithms written outside the library, only from the
// Communicator's public primitives (examples/custom_algorithm.cpp runs them;
// libcustom_algorithm.so carries them into `inca bench --plugin`).
#pragma once

#include "inca/algorithm.hpp"
#include "inca/status.hpp"

namespace example {

/// "star": every rank sends its buffer to rank 0, which reduces them in rank
/// order (so the result is reproducible) and sends the result back. Simple
/// and slow: rank 0's NIC carries (p-1) buffers each way.
inca::Status star_allreduce(inca::Communicator& comm, const inca::AllreduceArgs& args);

/// "innet_or_star": the switch primitive when the communicator has a tree and
/// the switches reduce the pair, else "star".
inca::Status innet_or_star_allreduce(inca::Communicator& comm, const inca::AllreduceArgs& args);

/// Registers both; returns the number that failed to register.
int register_example_algorithms();

}  // namespace example
