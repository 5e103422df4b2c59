// Dissemination barrier (Hensgen, Finkel and Manber): ceil(lg p) rounds; in
// round k rank r sends an empty message to r + 2^k and waits for one from
// r - 2^k. After the last round every rank has heard, directly or through
// others, from every rank. Works for any p without a fold.
#pragma once

#include "inca/communicator.hpp"

namespace inca::algorithms {

/// Returns once every rank of `comm` has entered the barrier.
Status dissemination_barrier(Communicator& comm);

}  // namespace inca::algorithms
