// The retransmission timeout of one endpoint's traffic class (in-network
// chunks, point-to-point messages): fixed, or a multiple of the recent
// minimum round trip, clamped to [min, max].
//
// Why the minimum and not RFC 6298's smoothed mean plus deviations: an
// in-network chunk completes only when the slowest member's contribution
// arrives, so when another host lost a packet this host's round trip includes
// that host's whole timeout. Karn's rule cannot exclude such samples (this
// host retransmitted nothing), and a mean-based timeout then feeds on itself
// up to the cap. The minimum over the last window of samples is the path
// without losses; a multiple of it leaves room for jitter, and callers add the
// time to drain their own queue separately (endpoint_types.hpp, drain_time).
// Before `warmup` samples the initial timeout holds.
#pragma once

#include <algorithm>
#include <cstdint>

#include "inca/time.hpp"

namespace inca::protocol {

class RtoEstimator {
 public:
  static constexpr std::uint32_t kWindow = 64;  ///< samples per minimum window
  static constexpr Time kFactor = 3;            ///< timeout = kFactor x minimum round trip

  /// Fixed: always `max`. Adaptive: `initial` until `warmup` samples, then
  /// kFactor x the recent minimum within [min, max].
  RtoEstimator(Time initial, Time min, Time max, bool adaptive, std::uint32_t warmup = 16)
      : initial_(adaptive ? std::clamp(initial, std::min(min, max), max) : max),
        min_(std::min(min, max)),
        max_(max),
        adaptive_(adaptive),
        warmup_(warmup) {}

  /// One round trip of a packet that was not retransmitted (Karn's rule).
  /// True when this sample ends the warmup: timers armed with the initial
  /// timeout may then be re-armed with the estimate.
  bool sample(Time rtt) {
    if (!adaptive_ || rtt < 0) return false;
    current_min_ = std::min(current_min_, rtt);
    if (++samples_ % kWindow == 0) {
      previous_min_ = current_min_;
      current_min_ = kNever;
    }
    return samples_ == warmup_;
  }

  /// The base timeout (before backoff).
  Time base() const {
    if (!adaptive_ || samples_ < warmup_) return initial_;
    const Time recent = std::min(previous_min_, current_min_);
    return std::clamp(kFactor * recent, min_, max_);
  }

  /// The timeout after `retries` expiries: doubled per expiry, at most
  /// 2^max_shift times the base.
  Time timeout(std::uint32_t retries, std::uint32_t max_shift) const {
    const std::uint32_t shift = std::min<std::uint32_t>({retries, max_shift, 30});
    return base() << shift;
  }

  std::uint64_t samples() const { return samples_; }

 private:
  Time initial_;
  Time min_;
  Time max_;
  bool adaptive_;
  std::uint32_t warmup_;
  Time current_min_ = kNever;   // this window so far
  Time previous_min_ = kNever;  // the last full window
  std::uint64_t samples_ = 0;
};

}  // namespace inca::protocol
