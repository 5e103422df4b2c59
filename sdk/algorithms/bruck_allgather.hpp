// Bruck all-gather (Bruck et al., "Efficient algorithms for all-to-all
// communications in multiport message-passing systems", IEEE TPDS 1997; the
// short-message all-gather of MPICH and Open MPI's tuned module): in
// ceil(lg p) steps rank r sends everything it holds to rank r - 2^k and
// receives as much from r + 2^k, so after the last step it holds the blocks
// of ranks r, r+1, ..., r+p-1 and rotates them into place. ceil(lg p)
// messages per rank instead of the ring's p - 1, for the same (p-1) blocks
// per NIC: the choice for small blocks at scale, such as split()'s colors.
// Cost: docs/model.md, "Other collectives".
#pragma once

#include <cstddef>

#include "inca/communicator.hpp"

namespace inca::algorithms {

/// Block i of recv (size() blocks of `block_bytes`) = send of rank i. send
/// may be recv's own block (in place).
Status bruck_allgather(Communicator& comm, const void* send, void* recv, std::size_t block_bytes);

}  // namespace inca::algorithms
