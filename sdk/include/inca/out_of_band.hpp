// The out-of-band exchange that rank processes bootstrap with: an all-gather
// in which every rank passes its bytes and gets every rank's, in rank order.
// The verbs fabric swaps queue pair numbers and ring addresses this way
// (docs/verbs.md); `inca launch` serves one over TCP (INCA_RENDEZVOUS), and
// an MPI program passes one built on MPI_Allgatherv
// (udp/mpi/mpi_bootstrap.hpp).
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "inca/status.hpp"

namespace inca {

using OutOfBandAllgather =
    std::function<Result<std::vector<std::vector<std::byte>>>(std::span<const std::byte>)>;

}  // namespace inca
