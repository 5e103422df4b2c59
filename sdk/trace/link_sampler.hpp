// Turns the packets one link direction carries into counter samples, one
// per interval of fabric time: how busy the link was (utilisation), the
// most bytes that were on it at once (queued or on the wire: in flight), and
// the bytes that started serialising in the interval (so that a trace's
// samples add up to the link's byte counter exactly). Intervals in which
// nothing happened are left out, except the first, so a graph drops to 0.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

#include "inca/time.hpp"

namespace inca::trace {

class LinkSampler {
 public:
  struct Sample {
    Time at = 0;  ///< the interval's start
    double utilisation = 0;
    std::uint64_t in_flight_bytes = 0;
    std::uint64_t tx_bytes = 0;
  };
  using Emit = std::function<void(const Sample&)>;

  explicit LinkSampler(Time interval) : interval_(interval) {}

  /// A packet of `bytes` offered at `now` occupies the link over [begin,
  /// end) and arrives at `arrival` (now <= begin <= end <= arrival). Emits
  /// the intervals that ended by `now`.
  void send(Time now, Time begin, Time end, Time arrival, std::uint64_t bytes, const Emit& emit);
  /// Emits every interval that ended by `now`; with kNever, every one left
  /// (then a final zero sample when the last one was not).
  void flush(Time now, const Emit& emit);

 private:
  struct Interval {
    Time busy = 0;
    std::uint64_t peak = 0;
    std::uint64_t tx_bytes = 0;
  };
  Interval& at(std::int64_t index);
  // Forgets the packets that arrived by `t`.
  void retire(Time t);
  void write(std::int64_t index, const Interval& interval, const Emit& emit);

  Time interval_;
  std::deque<Interval> open_;  // intervals first_, first_ + 1, ...
  std::int64_t first_ = 0;
  std::uint64_t in_flight_ = 0;
  using Arrival = std::pair<Time, std::uint64_t>;
  std::priority_queue<Arrival, std::vector<Arrival>, std::greater<>> arrivals_;
  bool last_was_zero_ = true;
  std::int64_t last_written_ = -1;
};

}  // namespace inca::trace
