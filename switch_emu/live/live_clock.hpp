// The live fabric's clock: wall-clock time as inca::Time, picoseconds since
// the fabric was created, and the conversion back for timed sleeps.
#pragma once

#include <chrono>

#include "inca/time.hpp"

namespace inca::live {

class LiveClock {
 public:
  using Steady = std::chrono::steady_clock;

  LiveClock() : origin_(Steady::now()) {}

  Time now() const {
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now() - origin_).count();
    return static_cast<Time>(ns) * kPicosPerNano;
  }

  /// The steady-clock instant of fabric time `t` (t must be finite).
  Steady::time_point at(Time t) const {
    return origin_ + std::chrono::nanoseconds(t / kPicosPerNano);
  }

 private:
  Steady::time_point origin_;
};

}  // namespace inca::live
