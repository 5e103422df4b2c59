// Ring all-reduce: reduce-scatter then all-gather around the ring of ranks,
// each segment cut into chunks that are forwarded as soon as they are reduced
// (pipelined, as NCCL does). Bandwidth-optimal: every NIC sends 2(p-1)/p of
// the buffer. Cost: docs/model.md, "ring".
#pragma once

#include <cstddef>

#include "inca/algorithm.hpp"

namespace inca::algorithms {

/// Bytes per pipelined chunk of a ring segment: a quarter of the segment so
/// that four chunks overlap consecutive steps, at least one packet and at most
/// 256 KiB, rounded to whole elements.
std::size_t ring_chunk_bytes(std::size_t segment_bytes, std::size_t packet_payload,
                             std::size_t elem_size);

Status ring_allreduce(Communicator& comm, const AllreduceArgs& args);

}  // namespace inca::algorithms
