// Detects that a live fabric can make no more progress: every unfinished rank
// is blocked with no timer of its own, and no packet is on a link, in a
// backlog or being handled. The simulator sees this as an empty event queue;
// here one counter holds it:
//
//   busy = ranks that are running or may still act on their own
//        + packets handed to the fabric and not yet fully handled.
//
// A packet is counted before it becomes visible and uncounted only after its
// handler has counted what it sent, and a rank re-counts itself before it
// handles anything. So busy never touches zero while work remains, and once
// it is zero nothing can raise it: zero is a true, stable verdict. The thread
// that brings it to zero starts a new epoch and wakes the ranks, whose waits
// then fail like the simulator's ("no progress possible").
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "live/doorbell.hpp"

namespace inca::live {

class ProgressTracker {
 public:
  /// Doorbells to ring on a verdict; set before any thread runs.
  void watch(std::vector<Doorbell*> ranks) { ranks_ = std::move(ranks); }

  void add(std::int64_t n = 1) { busy_.fetch_add(n, std::memory_order_seq_cst); }
  void release(std::int64_t n = 1) {
    if (busy_.fetch_sub(n, std::memory_order_seq_cst) != n) return;
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    for (Doorbell* d : ranks_) d->notify();
  }
  /// Changes each time the fabric ran out of progress.
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_seq_cst); }
  std::int64_t busy() const { return busy_.load(std::memory_order_seq_cst); }

 private:
  std::atomic<std::int64_t> busy_{0};
  std::atomic<std::uint64_t> epoch_{0};
  std::vector<Doorbell*> ranks_;
};

}  // namespace inca::live
