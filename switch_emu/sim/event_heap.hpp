// The simulator's pending-event set: a binary min-heap ordered by (time,
// insertion sequence), so equal-time events run in the order they were
// scheduled and every run is deterministic. replace_top() lets the common
// "handle the head, schedule its successor" step cost one sift instead of two.
#pragma once

#include <cstdint>
#include <vector>

#include "inca/time.hpp"

namespace inca::sim {

template <typename Payload>
class EventHeap {
 public:
  struct Entry {
    unsigned __int128 key;  // time in the high 64 bits, sequence in the low
    Payload payload;
    Time time() const { return static_cast<Time>(key >> 64); }
  };

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  const Entry& top() const { return heap_.front(); }

  void push(Time time, const Payload& payload) {
    Entry e{make_key(time), payload};
    std::size_t hole = heap_.size();
    heap_.push_back(e);
    while (hole > 0) {
      const std::size_t parent = (hole - 1) / 2;
      if (heap_[parent].key <= e.key) break;
      heap_[hole] = heap_[parent];
      hole = parent;
    }
    heap_[hole] = e;
  }

  void pop() {
    const Entry last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(last);
  }

  /// pop() then push(), in one sift.
  void replace_top(Time time, const Payload& payload) { sift_down(Entry{make_key(time), payload}); }

 private:
  unsigned __int128 make_key(Time time) {
    return (static_cast<unsigned __int128>(static_cast<std::uint64_t>(time)) << 64) | next_seq_++;
  }

  void sift_down(const Entry& e) {
    const std::size_t n = heap_.size();
    std::size_t hole = 0;
    while (true) {
      std::size_t child = 2 * hole + 1;
      if (child >= n) break;
      if (child + 1 < n && heap_[child + 1].key < heap_[child].key) ++child;
      if (e.key <= heap_[child].key) break;
      heap_[hole] = heap_[child];
      hole = child;
    }
    heap_[hole] = e;
  }

  std::vector<Entry> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace inca::sim
