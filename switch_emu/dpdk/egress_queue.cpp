#include "dpdk/egress_queue.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <utility>

#include "dpdk/frame.hpp"

namespace inca::dpdk_switch {
namespace {

constexpr std::uint32_t kMask = EgressQueue::kCapacity - 1;
constexpr std::uint16_t kTxBurst = 64;

std::uint64_t link_bytes(const rte_mbuf* m) {
  return m->pkt_len + kLinkOverheadBytes;
}

}  // namespace

EgressQueue::EgressQueue(std::uint16_t port_id, double gbps, double burst_us,
                         std::uint32_t max_frame)
    : port_id_(port_id), ring_(kCapacity, nullptr) {
  if (gbps > 0) {
    const double bytes_per_second = gbps * 1e9 / 8;
    const double per_tick = bytes_per_second / static_cast<double>(rte_get_tsc_hz());
    // At least two frames, so no frame ever needs more than the bucket holds.
    const double burst =
        std::max(2.0 * (max_frame + kLinkOverheadBytes), bytes_per_second * burst_us * 1e-6);
    bucket_ = TokenBucket(per_tick, burst);
    bucket_.advance(rte_get_tsc_cycles());
  }
}

EgressQueue::EgressQueue(EgressQueue&& o) noexcept
    : port_id_(o.port_id_),
      bucket_(o.bucket_),
      ring_(std::move(o.ring_)),
      head_(o.head_),
      tail_(o.tail_) {
  o.head_ = o.tail_ = 0;
}

EgressQueue& EgressQueue::operator=(EgressQueue&& o) noexcept {
  if (this != &o) {
    free_all();
    port_id_ = o.port_id_;
    bucket_ = o.bucket_;
    ring_ = std::move(o.ring_);
    head_ = o.head_;
    tail_ = o.tail_;
    o.head_ = o.tail_ = 0;
  }
  return *this;
}

EgressQueue::~EgressQueue() {
  free_all();
}

void EgressQueue::free_all() {
  for (; head_ != tail_; ++head_) rte_pktmbuf_free(ring_[head_ & kMask]);
}

void EgressQueue::push(rte_mbuf* m, PortCounters& counters) {
  if (size() == kCapacity) {
    counters.drop(bucket_.unlimited() ? DropReason::tx_full : DropReason::rate_limit);
    rte_pktmbuf_free(m);
    return;
  }
  if (!bucket_.unlimited() && (!empty() || !bucket_.can_take(link_bytes(m))))
    ++counters.rate_limit_waits;
  ring_[tail_++ & kMask] = m;
}

void EgressQueue::flush(std::uint64_t now_tsc, PortCounters& counters) {
  bucket_.advance(now_tsc);
  while (!empty()) {
    // The burst: what the bucket allows, within the ring's contiguous part.
    const std::uint32_t contiguous = std::min(size(), kCapacity - (head_ & kMask));
    // Lengths are read before tx_burst: a PMD may free what it sent at once.
    std::uint32_t lengths[kTxBurst];
    std::uint16_t n = 0;
    std::uint64_t bytes = 0;
    while (n < std::min<std::uint32_t>(contiguous, kTxBurst)) {
      const rte_mbuf* m = ring_[(head_ + n) & kMask];
      if (!bucket_.can_take(bytes + link_bytes(m))) break;
      bytes += link_bytes(m);
      lengths[n++] = m->pkt_len;
    }
    if (n == 0) return;
    rte_mbuf** first = &ring_[head_ & kMask];
    const std::uint16_t sent = rte_eth_tx_burst(port_id_, 0, first, n);
    for (std::uint16_t i = 0; i < sent; ++i) {
      ++counters.tx_packets;
      counters.tx_bytes += lengths[i];
      bucket_.take(lengths[i] + kLinkOverheadBytes);
    }
    head_ += sent;
    if (sent < n) return;  // the TX ring is full: retry on the next pass
  }
}

}  // namespace inca::dpdk_switch
