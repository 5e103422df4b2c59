// How an idle fabric thread waits. A rank or switch thread that found nothing
// to do first re-polls with a CPU pause (cheap, reacts in nanoseconds), then
// yields its core, then sleeps on its doorbell until a packet, a timer or a
// control message needs it. On a machine with fewer cores than fabric threads
// (2 cores, 8 ranks and a switch) spinning steals the core the switch needs,
// so the defaults go to sleep almost at once; docs/fabrics.md has the
// measurements behind them.
#pragma once

#include <cstdint>

#include "inca/time.hpp"

namespace inca::live {

struct BackoffConfig {
  std::uint32_t spin_polls = 0;          ///< idle polls that only pause the CPU
  std::uint32_t yield_polls = 4;         ///< then idle polls that yield the core
  Time max_sleep = 10 * kPicosPerMilli;  ///< longest single sleep (a safety net)
  bool precise_sleeps = true;            ///< ask the kernel for 1 us timer slack (Linux)
};

enum class IdleStep : std::uint8_t { spin, yield, sleep };

/// The backoff state of one waiting thread.
class Backoff {
 public:
  explicit Backoff(const BackoffConfig& config) : config_(config) {}

  /// What the next idle poll should do.
  IdleStep next() {
    ++idle_polls_;
    if (idle_polls_ <= config_.spin_polls) return IdleStep::spin;
    if (idle_polls_ <= config_.spin_polls + config_.yield_polls) return IdleStep::yield;
    return IdleStep::sleep;
  }
  /// Called after useful work: the next wait starts with spinning again.
  void reset() { idle_polls_ = 0; }

 private:
  const BackoffConfig& config_;
  std::uint32_t idle_polls_ = 0;
};

/// Spins once (spin) or yields the core (yield); sleep is the caller's.
void pause_briefly(IdleStep step);

/// Applies the thread-level settings of `config` to the calling thread.
void tune_fabric_thread(const BackoffConfig& config);

}  // namespace inca::live
