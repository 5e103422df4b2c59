// A token bucket in bytes over an abstract tick clock (TSC cycles in the
// DPDK loop): the egress rate limit of one switch port. A rate of zero means
// unlimited.
#pragma once

#include <algorithm>
#include <cstdint>

namespace inca::dpdk_switch {

class TokenBucket {
 public:
  TokenBucket() = default;
  /// `bytes_per_tick` <= 0: unlimited. `burst_bytes`: the bucket's depth.
  TokenBucket(double bytes_per_tick, double burst_bytes)
      : rate_(bytes_per_tick), burst_(burst_bytes), tokens_(burst_bytes) {}

  bool unlimited() const { return rate_ <= 0; }
  /// Adds the tokens earned since the last call.
  void advance(std::uint64_t now) {
    if (unlimited()) return;
    if (now > last_) tokens_ = std::min(burst_, tokens_ + static_cast<double>(now - last_) * rate_);
    last_ = now;
  }
  bool can_take(std::uint64_t bytes) const {
    return unlimited() || tokens_ >= static_cast<double>(bytes);
  }
  void take(std::uint64_t bytes) {
    if (!unlimited()) tokens_ -= static_cast<double>(bytes);
  }

 private:
  double rate_ = 0;
  double burst_ = 0;
  double tokens_ = 0;
  std::uint64_t last_ = 0;
};

}  // namespace inca::dpdk_switch
