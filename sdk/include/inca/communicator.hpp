// The rank-facing API: a communicator of ranks with blocking collectives,
// point-to-point messages and the switch primitive that algorithms are built
// from. Calls block the calling rank only (a fiber in the simulator).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "inca/cost_model.hpp"
#include "inca/dtype.hpp"
#include "inca/status.hpp"
#include "inca/time.hpp"

namespace inca {

namespace protocol {
class HostDriver;
}
namespace manager {
struct TreePlan;
}

/// Options of one all-reduce.
struct AllreduceOptions {
  /// "auto", "innet", "ring", "recursive_doubling", "rabenseifner",
  /// "binomial_tree", or any registered algorithm. "auto" picks the one the
  /// cost model predicts fastest among those this communicator can run.
  std::string algorithm = "auto";
  /// Reduce in a fixed order so results are bit-identical across runs.
  bool reproducible = false;
};

/// A pending point-to-point operation.
struct Request {
  std::uint64_t id = 0;
};

/// User tags must stay below this; tags above are reserved for collectives.
inline constexpr int kMaxUserTag = 0x7fff;

class Communicator {
 public:
  /// Built by the runtime for each rank; users receive it in their rank program.
  /// `model` (optional) lets `auto` pick the algorithm the cost model rates fastest.
  Communicator(std::uint32_t rank, std::uint32_t size, protocol::HostDriver& driver,
               const manager::TreePlan* tree, Status innet_status, bool timing_only,
               const ModelFabric* model = nullptr);

  int rank() const { return static_cast<int>(rank_); }
  int size() const { return static_cast<int>(size_); }
  /// The fabric's clock (virtual in the simulator).
  Time now() const;
  /// True in payload-free mode: buffers may be null and hold no results.
  bool timing_only() const { return timing_only_; }

  /// recv[i] = op over ranks of send[i]. send may equal recv (in place).
  Status allreduce(const void* send, void* recv, std::size_t count, Dtype dtype, ReduceOp op,
                   const AllreduceOptions& options = {});
  /// The algorithm the last allreduce ran, and why when it was not the one asked for.
  const std::string& last_algorithm() const { return last_algorithm_; }
  const std::string& last_note() const { return last_note_; }

  /// Blocking point-to-point: exactly `bytes` from/to rank `peer` with `tag`.
  Status send(const void* data, std::size_t bytes, int dst, int tag = 0);
  Status recv(void* data, std::size_t bytes, int src, int tag = 0);
  /// Non-blocking forms; complete them with wait().
  Result<Request> isend(const void* data, std::size_t bytes, int dst, int tag = 0);
  Result<Request> irecv(void* data, std::size_t bytes, int src, int tag = 0);
  Status wait(Request request);
  Status wait_all(std::span<Request> requests);

  /// The switch primitive: an in-network all-reduce over this communicator's
  /// tree, no fallback. not_supported when there is no tree (innet_status()
  /// says why) or the switch cannot reduce the pair.
  Status innet_allreduce(const void* send, void* recv, std::size_t count, Dtype dtype, ReduceOp op,
                         bool reproducible = false);
  bool innet_available() const { return innet_status_.ok(); }
  const Status& innet_status() const { return innet_status_; }

  /// acc = acc op in, on this host (skipped in payload-free mode but still
  /// timed by the fabric's host model). Algorithms use this for local steps.
  void reduce_local(void* acc, const void* in, std::size_t count, Dtype dtype, ReduceOp op);

  /// Tags reserved for library collectives (above kMaxUserTag).
  static constexpr int kCollectiveTag = 0x8000;
  /// Internal point-to-point without the user-tag check (collectives use it).
  Result<Request> post_send(const void* data, std::size_t bytes, int dst, int tag);
  Result<Request> post_recv(void* data, std::size_t bytes, int src, int tag);

  protocol::HostDriver& driver() { return driver_; }

 private:
  Status wait_op(std::uint64_t id, const char* what);
  std::string choose_allreduce(std::size_t bytes, std::size_t elem_size) const;

  std::uint32_t rank_;
  std::uint32_t size_;
  protocol::HostDriver& driver_;
  const manager::TreePlan* tree_;
  Status innet_status_;
  bool timing_only_;
  const ModelFabric* model_;
  std::string last_algorithm_;
  std::string last_note_;
};

}  // namespace inca
