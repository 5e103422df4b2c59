// The host RC ring all-reduce baseline for the verbs fabric: the classic
// ring (reduce-scatter then all-gather, 2(n-1)/n of the buffer per NIC and
// direction) written directly on RC queue pairs with RDMA WRITE with
// immediate, zero-copy from and into the caller's buffer (registered through
// the registration cache, so repeated calls on the same buffer register it
// once), with none of the inca protocol on the way. It is what the
// in-network all-reduce is compared with on hardware (docs/verbs.md).
//
// Rank r writes only to its right neighbour r+1: each step's block into
// r+1's staging buffer (reduce-scatter) or straight into r+1's buffer
// (all-gather). Its right neighbour tells it where, per call, with a
// descriptor written into r's mailbox, returns a credit after reducing each
// staged block (a staging half is reused two steps later), and says when
// its own reduce-scatter writes have left its buffer, before all-gather
// blocks may overwrite it. Every message is an RDMA WRITE with immediate;
// the immediate says which message it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "inca/dtype.hpp"
#include "inca/status.hpp"
#include "registration_cache.hpp"
#include "verbs_queues.hpp"
#include "verbs_rank_driver.hpp"

namespace inca::verbs {

class RcRing {
 public:
  /// `queues` has RC queue pairs to this rank's left (rank - 1) and right
  /// (rank + 1) neighbours (channels by rank) and is used by nothing else
  /// while the ring runs.
  RcRing(VerbsQueues& queues, RegistrationCache& cache, std::uint32_t rank, std::uint32_t ranks);
  ~RcRing();
  RcRing(const RcRing&) = delete;
  RcRing& operator=(const RcRing&) = delete;

  /// Registers this rank's mailbox; the bootstrap hands it to the right
  /// neighbour (which writes descriptors into it).
  Result<RemoteRing> mailbox();
  /// Takes the left neighbour's mailbox (this rank writes its descriptors
  /// there) and posts the receive requests.
  Status start(RemoteRing left_mailbox);

  /// In-place all-reduce of `count` elements of `dtype` at `data`, the same
  /// call on every rank. Fails with timeout when a neighbour is silent for
  /// `timeout`, io_error when a write fails.
  Status allreduce(void* data, std::size_t count, Dtype dtype, ReduceOp op, Time timeout);

 private:
  enum class Message : std::uint32_t {
    descriptor = 1,
    block = 2,
    credit = 3,
    ready = 4,
    gather = 5
  };
  std::uint32_t immediate(Message m, std::uint32_t step) const;
  Status send(std::uint32_t channel, LocalBuffer src, std::uint64_t va, std::uint32_t rkey,
              Message m, std::uint32_t step);
  /// Waits for message `m` of this call from `channel` (others are kept).
  Status await(std::uint32_t channel, Message m, std::uint32_t step);
  /// Waits until every write of this rank completed.
  Status await_writes();
  Status pump();

  VerbsQueues& queues_;
  RegistrationCache& cache_;
  std::uint32_t rank_, ranks_, left_, right_;
  RemoteRing left_mailbox_;
  std::vector<std::byte> mailbox_;  // two descriptors: calls alternate
  MemoryRegion mailbox_mr_{};
  std::vector<std::byte> staging_;  // two halves of a block each
  std::uint32_t call_ = 0;
  Time deadline_ = 0;
  Time timeout_ = 0;
  std::uint64_t writes_in_flight_ = 0;
  std::deque<Completion> arrived_;  // received, not yet awaited
  std::vector<Completion> batch_;
  Status failure_;
};

}  // namespace inca::verbs
