// The seam between the rank-facing runtime and a fabric: each fabric gives
// every rank a HostDriver that moves its endpoint's packets, tells the time
// and blocks the rank (a fiber in the simulator, a thread or process on real
// fabrics) while the fabric keeps feeding the endpoint.
#pragma once

#include <functional>
#include <string>

#include "inca/time.hpp"
#include "protocol/host_endpoint.hpp"

namespace inca::trace {
class TraceSink;
}

namespace inca::protocol {

class HostDriver {
 public:
  virtual ~HostDriver() = default;

  /// The fabric's clock (virtual time in the simulator, wall clock elsewhere).
  virtual Time now() const = 0;
  /// This rank's protocol state.
  virtual HostEndpoint& endpoint() = 0;
  /// Puts the packets in `out` on the wire and clears it.
  virtual void transmit(Outbox& out) = 0;
  /// Blocks until ready() holds, delivering packets to the endpoint meanwhile.
  /// Returns false when `deadline` passed first or the fabric can make no
  /// more progress (every rank blocked and nothing in flight).
  virtual bool block_until(const std::function<bool()>& ready, Time deadline) = 0;
  /// The modelled time of a host-side reduction of `bytes`: positive in the
  /// simulator, 0 on real fabrics (the work took its real time already).
  virtual Time compute_time(std::size_t bytes) const {
    (void)bytes;
    return 0;
  }
  /// Accounts a host-side reduction of `bytes`: blocks this rank for its
  /// compute_time(). Through block_until, so that a driver that multiplexes
  /// fibers suspends only the fiber that computes.
  virtual void account_compute(std::size_t bytes) {
    const Time t = compute_time(bytes);
    if (t > 0) wait_until(now() + t);
  }
  /// Blocks until `deadline` while the fabric keeps feeding the endpoint
  /// (block_until with nothing to wait for). Returns at once, after taking
  /// in what has arrived, when the deadline has passed.
  void wait_until(Time deadline) {
    static const std::function<bool()> never = [] { return false; };
    block_until(never, deadline);
  }
  /// Where this rank's timeline is recorded; nullptr when tracing is off.
  virtual trace::TraceSink* trace() const { return nullptr; }
  /// Why block_until gave up before its deadline, in words for an error message.
  virtual std::string stall_reason() const {
    return "every rank is blocked and no packet is in flight (mismatched calls?)";
  }
};

}  // namespace inca::protocol
