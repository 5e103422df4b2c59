// Ring all-gather: the second half of the ring all-reduce. In p-1 steps each
// rank forwards to its right neighbour the block it received last, so every
// block travels once around the ring. Each NIC sends (p-1) blocks.
// Cost: docs/model.md, "Other collectives".
#pragma once

#include <cstddef>

#include "inca/communicator.hpp"

namespace inca::algorithms {

/// Block i of recv (size() blocks of `block_bytes`) = send of rank i. send
/// may be recv's own block (in place).
Status ring_allgather(Communicator& comm, const void* send, void* recv, std::size_t block_bytes);

}  // namespace inca::algorithms
