// What `inca bench --collective` varies per collective: how a sweep size
// becomes buffers and call arguments, the reference each rank's result is
// compared with, and the algorithms that implement the collective.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "inca/collective.hpp"
#include "inca/communicator.hpp"
#include "inca/dtype.hpp"

namespace inca::cli {

/// One size of the sweep for one collective.
struct CollectiveSize {
  std::size_t count = 0;        ///< count argument of the call (per block for RS/AG)
  std::size_t bytes = 0;        ///< S, the size nccl-tests reports and divides by
  std::size_t send_bytes = 0;   ///< each rank's send buffer
  std::size_t recv_bytes = 0;   ///< each rank's receive buffer
  std::size_t model_bytes = 0;  ///< the `bytes` argument of model_collective()
};

/// Sizes `requested` bytes of `collective` over `ranks` ranks: at least one
/// element (one per block for reduce-scatter and all-gather); zero for barrier.
CollectiveSize size_collective(Collective collective, std::size_t requested, std::size_t elem_size,
                               std::uint32_t ranks);

/// Every rank's buffers for one size, and what every rank must hold after the
/// collective. Empty in payload-free mode.
struct CollectiveData {
  std::vector<std::vector<std::byte>> send, recv;
  std::vector<std::byte> reference;
};

/// The rank that roots reduce and broadcast in the sweep.
inline constexpr int kBenchRoot = 0;

/// Fills the send buffers with `fill(out, count, dtype, op, rank, ranks)` and
/// computes the reference.
using FillFn = void (*)(std::byte* out, std::size_t count, Dtype dtype, ReduceOp op,
                        std::uint32_t rank, std::uint32_t ranks);
CollectiveData make_collective_data(Collective collective, const CollectiveSize& size,
                                    std::uint32_t ranks, Dtype dtype, ReduceOp op, FillFn fill);

/// Poisons the receive buffers before a run: every byte is the complement of
/// the byte the rank must end up with, so no byte that the collective fails
/// to write can match (broadcast: the root's buffer holds its data).
void reset_collective_data(Collective collective, CollectiveData& data);
/// The same for rank `rank`'s receive buffer only (ranks that run at their own pace).
void reset_collective_data(Collective collective, CollectiveData& data, std::uint32_t rank);

/// What rank `rank` must hold after the collective (reduce: only the root is
/// held to it).
const std::byte* expected_result(Collective collective, std::uint32_t rank,
                                 const CollectiveData& data);

/// Runs one collective on `comm` with `options` (algorithm, reproducible);
/// buffers are null when `data` is empty.
Status call_collective(Collective collective, Communicator& comm, const CollectiveSize& size,
                       Dtype dtype, ReduceOp op, const CollectiveOptions& options,
                       CollectiveData& data);

/// Starts the same collective with its non-blocking call.
Result<Request> start_collective(Collective collective, Communicator& comm,
                                 const CollectiveSize& size, Dtype dtype, ReduceOp op,
                                 const CollectiveOptions& options, CollectiveData& data);

/// "" when rank `rank`'s result matches the reference (ranks other than the
/// root are not checked for reduce), else what differs.
std::string check_collective(Collective collective, std::uint32_t rank, const CollectiveSize& size,
                             const CollectiveData& data);

/// invalid_argument unless `algorithm` implements `collective`: auto, innet,
/// the collective's host algorithm, or (all-reduce) any registered name.
Status check_collective_algorithm(Collective collective, const std::string& algorithm);

/// Whether `algorithm` (one check_collective_algorithm accepts, not auto)
/// needs the switches: innet, or a registered all-reduce that uses them.
bool algorithm_uses_switches(Collective collective, const std::string& algorithm);

/// The algorithms a sweep of `collective` runs unless told otherwise.
std::vector<std::string> default_algorithms(Collective collective);

/// Whether the collective reduces (so the dtype/op pair must be valid).
bool collective_reduces(Collective collective);

}  // namespace inca::cli
