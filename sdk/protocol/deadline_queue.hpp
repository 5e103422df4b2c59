// Retransmission deadlines of outstanding chunks. A chunk's deadline is its
// send time plus timeout * 2^retries, so within one backoff level deadlines
// arrive in increasing order (almost: an adaptive timeout moves a little): a
// sorted FIFO per level replaces a heap, making push, peek and pop O(1) in the
// common case (levels are few).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <iterator>

#include <boost/circular_buffer.hpp>

#include "inca/time.hpp"

namespace inca::protocol {

struct ChunkDeadline {
  Time deadline = kNever;
  std::uint64_t op = 0;
  std::uint32_t chunk = 0;
};

class DeadlineQueue {
 public:
  static constexpr std::size_t kLevels = 17;

  /// Adds a deadline at backoff `level` (clamped to the last level). With an
  /// adaptive timeout a deadline may precede the level's last one; it is then
  /// placed in order, searching from the back (the common case stays O(1)).
  void push(std::size_t level, const ChunkDeadline& d) {
    const std::size_t l = level < kLevels ? level : kLevels - 1;
    auto& q = levels_[l];
    if (q.full()) q.set_capacity(q.empty() ? 8 : 2 * q.capacity());
    auto at = q.end();
    while (at != q.begin() && std::prev(at)->deadline > d.deadline) --at;
    q.insert(at, d);
    nonempty_ |= 1u << l;
    ++size_;
  }
  bool empty() const { return size_ == 0; }
  /// The earliest deadline; only valid when !empty().
  const ChunkDeadline& top() const { return levels_[min_level()].front(); }
  void pop() {
    const std::size_t l = min_level();
    levels_[l].pop_front();
    if (levels_[l].empty()) nonempty_ &= ~(1u << l);
    --size_;
  }
  void clear() {
    for (auto& l : levels_) l.clear();
    nonempty_ = 0;
    size_ = 0;
  }

 private:
  // Usually only level 0 holds entries: scan just the non-empty levels.
  std::size_t min_level() const {
    std::uint32_t bits = nonempty_;
    std::size_t best = static_cast<std::size_t>(std::countr_zero(bits));
    for (bits &= bits - 1; bits; bits &= bits - 1) {
      const auto i = static_cast<std::size_t>(std::countr_zero(bits));
      if (levels_[i].front().deadline < levels_[best].front().deadline) best = i;
    }
    return best;
  }
  // Growing rings that start empty: an endpoint has two queues of 17 levels,
  // and a std::deque allocates a block even when empty (~10 KiB a queue,
  // touched by every rank of a large simulation).
  std::array<boost::circular_buffer<ChunkDeadline>, kLevels> levels_;
  std::uint32_t nonempty_ = 0;  // bit l: levels_[l] has entries
  std::size_t size_ = 0;
};

}  // namespace inca::protocol
