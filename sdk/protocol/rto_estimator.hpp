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
//
// A packet that waits in a queue the minimum never saw (another job's traffic
// at a shared port) outlives the timeout without being lost, and its resend
// only adds to that queue. The endpoint learns of it when the answer comes
// sooner after the resend than the minimum round trip, so it answers the
// original (RFC 3522's Eifel detection, by timing): each such answer doubles
// the base, up to kMaxSpuriousShift doublings, and every kWindow clean
// samples after the last one halve it again (the Eifel response, RFC 4015,
// in spirit: back off while resends prove needless, return when they stop).
#pragma once

#include <algorithm>
#include <cstdint>

#include "inca/time.hpp"

namespace inca::protocol {

class RtoEstimator {
 public:
  static constexpr std::uint32_t kWindow = 64;           ///< samples per minimum window
  static constexpr Time kFactor = 3;                     ///< timeout = kFactor x minimum round trip
  static constexpr std::uint32_t kMaxSpuriousShift = 4;  ///< at most 16x for spurious resends

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
    if (spurious_shift_ > 0 && ++clean_since_spurious_ % kWindow == 0) --spurious_shift_;
    return samples_ == warmup_;
  }

  /// The recent minimum round trip; 0 before the warmup ends.
  Time min_round_trip() const {
    if (!adaptive_ || samples_ < warmup_) return 0;
    return std::min(previous_min_, current_min_);
  }

  /// An answer came too soon to answer the resend of its packet: the resend
  /// was needless, so the timeout was too short for the path as it is now.
  void spurious() {
    if (!adaptive_) return;
    spurious_shift_ = std::min(spurious_shift_ + 1, kMaxSpuriousShift);
    clean_since_spurious_ = 0;
  }

  /// The base timeout (before backoff).
  Time base() const {
    if (!adaptive_ || samples_ < warmup_) return initial_;
    return std::min(std::clamp(kFactor * min_round_trip(), min_, max_) << spurious_shift_, max_);
  }

  /// The timeout after `retries` expiries: doubled per expiry, at most
  /// 2^max_shift times the base.
  Time timeout(std::uint32_t retries, std::uint32_t max_shift) const {
    const std::uint32_t shift = std::min<std::uint32_t>({retries, max_shift, 30});
    return base() << shift;
  }

  std::uint64_t samples() const { return samples_; }
  /// Doublings of the base now in force for spurious resends.
  std::uint32_t spurious_shift() const { return spurious_shift_; }

 private:
  Time initial_;
  Time min_;
  Time max_;
  bool adaptive_;
  std::uint32_t warmup_;
  Time current_min_ = kNever;   // this window so far
  Time previous_min_ = kNever;  // the last full window
  std::uint64_t samples_ = 0;
  std::uint32_t spurious_shift_ = 0;
  std::uint32_t clean_since_spurious_ = 0;  // samples since the last spurious()
};

}  // namespace inca::protocol
