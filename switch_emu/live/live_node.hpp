// The I/O side of one node (rank or switch) in the live fabric: the rings of
// its ports in both directions, its doorbell, and the bookkeeping every send
// and receive owes the progress tracker. Used only by the node's own thread,
// except the doorbell, which others ring.
//
// When a node handles a packet, what it sends in answer is stamped at the
// time the node has reached, not at the wall clock: the latest arrival it has
// handled (act_at_arrival). A switch or a NIC reacts in hardware within
// nanoseconds; the emulating thread may have been descheduled for
// milliseconds by the OS. Stamping at the arrival lets it catch up instead of
// leaving its links idle for the length of the hiccup, so that links keep
// their configured rate on a loaded machine. Nothing gets earlier than the
// wall clock allows: a packet is only handled once its arrival has passed,
// and code the rank program runs is stamped with the wall clock.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "inca/time.hpp"
#include "live/backoff.hpp"
#include "live/doorbell.hpp"
#include "live/link_ring.hpp"
#include "live/live_clock.hpp"
#include "live/progress_tracker.hpp"
#include "wire/packet.hpp"

namespace inca::live {

/// How soon a sender with a backlog looks again for room in a ring (receivers
/// do not ring senders back).
inline constexpr Time kBacklogRetry = 20 * kPicosPerMicro;

class LiveNode {
 public:
  LiveNode(const LiveClock& clock, ProgressTracker& tracker, const BackoffConfig& backoff,
           bool act_at_arrival)
      : clock_(clock), tracker_(tracker), backoff_(backoff), act_at_arrival_(act_at_arrival) {}
  LiveNode(const LiveNode&) = delete;
  LiveNode& operator=(const LiveNode&) = delete;

  /// Port p receives from in[p] and sends into out[p].
  void connect(std::vector<LinkRing*> in, std::vector<LinkRing*> out) {
    in_ = std::move(in);
    out_ = std::move(out);
  }

  Doorbell& doorbell() { return doorbell_; }
  const LiveClock& clock() const { return clock_; }
  const BackoffConfig& backoff() const { return backoff_; }

  /// Sends `packet` out of `port`, offered to the link at `at`.
  void send(std::uint16_t port, wire::Packet&& packet, Time at) {
    tracker_.add();
    out_[port]->send(std::move(packet), at);
  }
  /// Moves backlogged packets into their rings; true when it moved any.
  bool flush();
  bool backlog_empty() const;

  /// Hands every packet that has arrived to handle(port, packet, at), a few
  /// per port in turn, where `at` is when answers to it are offered to the
  /// links; true when it handled any.
  template <typename Handler>
  bool poll(Handler&& handle) {
    bool any = false;
    for (std::uint16_t port = 0; port < in_.size(); ++port) {
      for (int k = 0; k < kBatchPerPort; ++k) {
        const Time now = clock_.now();
        const bool took = in_[port]->take_arrived(now, [&](wire::Packet& p, Time arrival) {
          reached_ = std::max(reached_, arrival);
          handle(port, p, act_at_arrival_ ? reached_ : now);
        });
        if (!took) break;
        tracker_.release();  // after the handler counted what it sent
        any = true;
      }
    }
    return any;
  }

  /// Sleeps until `until`, the next packet's arrival, a new packet, or
  /// wake_early() holding, whichever comes first (at most max_sleep).
  void sleep(Time until, const std::function<bool()>& wake_early);

 private:
  static constexpr int kBatchPerPort = 32;
  std::size_t queued() const;
  Time next_arrival() const;

  const LiveClock& clock_;
  ProgressTracker& tracker_;
  const BackoffConfig& backoff_;
  const bool act_at_arrival_;
  Time reached_ = 0;  // latest arrival handled: never after the wall clock
  Doorbell doorbell_;
  std::vector<LinkRing*> in_;
  std::vector<LinkRing*> out_;
};

}  // namespace inca::live
