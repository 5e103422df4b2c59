// A fabric thread's doorbell: the thread sleeps on it when idle, and whoever
// gives it work rings it. Ringing costs one uncontended atomic read-modify-
// write unless the thread is asleep, so producers ring after every packet.
//
// No lost wake-ups: the sleeper swaps `sleeping` to 1 and then re-checks for
// work; a producer publishes its work and then reads `sleeping` with a
// read-modify-write. Both are read-modify-writes of one atomic, so one comes
// first: if the producer's does, the sleeper's synchronises with it and sees
// the work; if the sleeper's does, the producer sees 1 and notifies, and the
// mutex orders that notify after the sleeper has started waiting. (No
// fences: ThreadSanitizer understands this form.)
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace inca::live {

class Doorbell {
 public:
  /// Wakes the owner if it sleeps; call after publishing work.
  void ring() {
    if (sleeping_.fetch_or(0, std::memory_order_acq_rel) != 0) notify();
  }

  /// Wakes the owner whatever it is doing (rare events: stop, control, verdicts).
  void notify() {
    std::lock_guard<std::mutex> lock(mutex_);
    cv_.notify_all();
  }

  /// Sleeps until `until` or until `has_work()` holds (checked before sleeping
  /// and after every wake-up).
  template <typename Clock, typename Duration, typename Predicate>
  void sleep_until(std::chrono::time_point<Clock, Duration> until, Predicate has_work) {
    std::unique_lock<std::mutex> lock(mutex_);
    sleeping_.exchange(1, std::memory_order_acq_rel);
    while (!has_work()) {
      if (cv_.wait_until(lock, until) == std::cv_status::timeout) break;
    }
    sleeping_.store(0, std::memory_order_relaxed);
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<std::uint32_t> sleeping_{0};
};

}  // namespace inca::live
