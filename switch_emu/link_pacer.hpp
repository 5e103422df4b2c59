// How a link direction paces packets, shared by every fabric that models
// line rate (sim in virtual time, live on the wall clock): a packet starts
// when the link is next free and occupies it for its wire bytes at the line
// rate. This is a token bucket one packet deep: tokens refill at the line
// rate and idle time is not banked, so a link never sends faster than its
// rate after a pause.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "inca/time.hpp"

namespace inca::fabric {

class LinkPacer {
 public:
  explicit LinkPacer(double gbps)
      : ps_per_byte_x1024_(static_cast<Time>(std::llround(8000.0 * 1024 / gbps))) {}

  /// Time `bytes` occupy the link (rounded to the picosecond).
  Time serialise(std::size_t bytes) const {
    // 1/1024 ps per byte keeps odd rates exact enough without floating point.
    return (static_cast<Time>(bytes) * ps_per_byte_x1024_ + 512) / 1024;
  }

  /// Books the link for a packet of `bytes` offered at `now`; returns the
  /// time its last bit leaves.
  Time book(Time now, std::size_t bytes) {
    busy_until_ = std::max(now, busy_until_) + serialise(bytes);
    return busy_until_;
  }

  /// Books the link for a segment (the simulator's segment mode): packets of
  /// `bytes` in all, the first ready at `head`, the last (of `last_bytes`) at
  /// `tail`, the ones between ready evenly in between, each sent once it is
  /// ready and the link is free (cut-through of a pipelined burst). Returns
  /// the time the last bit leaves; with head == tail it is book(head, bytes).
  Time book_segment(Time head, Time tail, std::size_t bytes, std::size_t last_bytes) {
    const Time start = std::max(head, busy_until_);
    busy_until_ = std::max(start + serialise(bytes), tail + serialise(last_bytes));
    return busy_until_;
  }

  Time busy_until() const { return busy_until_; }

 private:
  Time ps_per_byte_x1024_;
  Time busy_until_ = 0;
};

}  // namespace inca::fabric
