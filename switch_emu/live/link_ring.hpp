// One direction of a link in the live fabric: a single-producer single-
// consumer lock-free ring from the sending node's thread to the receiving
// node's thread, a pacer for the line rate, and a delay line for latency.
//
// The sender stamps each packet with the time its last bit reaches the far
// end (link free + serialisation + latency, exactly as the simulator computes
// it, but from the wall clock) and pushes it at once; the receiver takes a
// packet only once that time has passed. Stamps on one link grow, so the ring
// is also the delay line, in order. The ring's slots are allocated once, so a
// packet costs no allocation on the way (its payload is shared, not copied).
// When the ring is full the sender keeps packets in its own backlog, in
// order, and never blocks: a blocked switch could deadlock a cycle of links.
#pragma once

#include <boost/lockfree/spsc_queue.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>

#include "inca/time.hpp"
#include "link_pacer.hpp"
#include "live/doorbell.hpp"
#include "topology/topology.hpp"
#include "trace/trace_sink.hpp"
#include "wire/packet.hpp"

namespace inca::live {

/// Traffic a link direction carried (the sender's view, framing included).
struct LinkCounters {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  Time busy = 0;  ///< time spent serialising
  Time idle = 0;  ///< time idle between two packets (the sender had nothing queued)
};

class LinkRing {
 public:
  /// `receiver` is rung when a packet lands in the ring.
  LinkRing(const topology::LinkSpec& spec, std::size_t capacity, Doorbell& receiver);
  LinkRing(const LinkRing&) = delete;
  LinkRing& operator=(const LinkRing&) = delete;

  // ---- sender's thread ----
  /// Stamps `packet` as offered to the link at `at` and hands it over.
  void send(wire::Packet&& packet, Time at);
  /// Moves backlogged packets into the ring; true when it moved any.
  bool flush();
  bool backlog_empty() const { return backlog_.empty(); }
  /// Stable once the sending thread has stopped.
  const LinkCounters& counters() const { return counters_; }
  /// Records this link's packets as the link out of (node, port); set between runs.
  void set_trace(trace::TraceSink* sink, std::uint32_t node, std::uint16_t port) {
    trace_ = sink;
    trace_node_ = node;
    trace_port_ = port;
  }

  // ---- receiver's thread ----
  /// Packets in the ring, arrived or still on the wire.
  std::size_t queued() const { return ring_.read_available(); }
  /// Arrival time of the oldest packet, or kNever when the ring is empty.
  Time next_arrival() const { return queued() ? ring_.front().arrival : kNever; }
  /// Hands the oldest packet to `handle(packet, arrival)` if it has arrived
  /// by `now`; false when there was none.
  template <typename Handler>
  bool take_arrived(Time now, Handler&& handle) {
    if (next_arrival() > now) return false;
    return ring_.consume_one([&](InFlight& f) { handle(f.packet, f.arrival); });
  }

 private:
  struct InFlight {
    Time arrival = 0;
    wire::Packet packet;
  };

  boost::lockfree::spsc_queue<InFlight> ring_;
  // Sender-owned state.
  std::deque<InFlight> backlog_;
  fabric::LinkPacer pacer_;
  Time latency_;
  LinkCounters counters_;
  Doorbell& receiver_;
  trace::TraceSink* trace_ = nullptr;
  std::uint32_t trace_node_ = 0;
  std::uint16_t trace_port_ = 0;
};

}  // namespace inca::live
