// The egress side of one switch port: a bounded FIFO of mbufs in front of
// the port's TX ring, drained through a token bucket so the port sends no
// faster than its configured link speed. Packets wait while the bucket is
// empty or the ring is full; only a full FIFO drops (counted).
#pragma once

#include <cstdint>
#include <vector>

#include "dpdk/switch_counters.hpp"
#include "dpdk/token_bucket.hpp"

struct rte_mbuf;

namespace inca::dpdk_switch {

class EgressQueue {
 public:
  static constexpr std::uint32_t kCapacity = 4096;  ///< a power of two

  /// `gbps` <= 0: unlimited. The bucket holds `burst_us` of line rate (at
  /// least two frames of `max_frame` bytes).
  EgressQueue(std::uint16_t port_id, double gbps, double burst_us, std::uint32_t max_frame);
  EgressQueue(EgressQueue&&) noexcept;
  EgressQueue& operator=(EgressQueue&&) noexcept;
  EgressQueue(const EgressQueue&) = delete;
  EgressQueue& operator=(const EgressQueue&) = delete;
  ~EgressQueue();

  /// Queues `m` (the queue owns it from now on); a full queue frees it and
  /// counts the drop.
  void push(rte_mbuf* m, PortCounters& counters);
  /// Hands the port what the bucket and the TX ring allow; counts tx.
  void flush(std::uint64_t now_tsc, PortCounters& counters);
  bool empty() const { return head_ == tail_; }
  std::uint32_t size() const { return tail_ - head_; }

 private:
  void free_all();

  std::uint16_t port_id_;
  TokenBucket bucket_;
  std::vector<rte_mbuf*> ring_;
  std::uint32_t head_ = 0;  // free-running indices, masked on access
  std::uint32_t tail_ = 0;
};

}  // namespace inca::dpdk_switch
