// The seam between what a run does and a timeline recorder. Fabrics (sim,
// live) and the runtime hold a TraceSink pointer that is null when tracing
// is off, so that every hook on a hot path costs one branch; everything a
// trace needs beyond these calls (counter values, names) the recorder reads
// itself. docs/tracing.md describes what a trace shows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "inca/time.hpp"
#include "inca/trace.hpp"
#include "wire/packet.hpp"

namespace inca::trace {

/// A lane of a rank's timeline: 0 is the rank program; each non-blocking
/// collective in progress runs on a lane of its own.
struct Lane {
  std::uint32_t rank = 0;
  std::uint32_t lane = 0;
};

/// The value of a span's or instant's argument.
using ArgValue = std::variant<std::int64_t, double, std::string>;
struct Arg {
  std::string key;
  ArgValue value;
};
using Args = std::vector<Arg>;

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  TraceDetail detail() const { return detail_; }
  /// The sink when it records at least `level`, else nullptr.
  TraceSink* at(TraceDetail level) { return detail_ >= level ? this : nullptr; }

  // ---- fabrics, at the fabric's time; on live from the node's own thread ----

  /// A packet offered to the link out of (node, port) at `now` occupies it
  /// over [tx_begin, tx_end) and reaches the far end at `arrival`.
  virtual void link_send(std::uint32_t node, std::uint16_t port, Time now, Time tx_begin,
                         Time tx_end, Time arrival, const wire::Packet& packet) = 0;
  /// A packet on the link out of (node, port) was lost (dropped, corrupted,
  /// a link or switch down): the recorder tells which from the fault counters.
  virtual void packet_lost(std::uint32_t node, std::uint16_t port, Time now) = 0;
  /// Switch `node` handled a packet: its counters may have moved.
  virtual void switch_touched(std::uint32_t node, Time now) = 0;
  /// Host `rank`'s endpoint acted on a timer or a packet: it may have retransmitted.
  virtual void host_touched(std::uint32_t rank, Time now) = 0;
  /// Switch `node` came back without its trees and slots.
  virtual void switch_restarted(std::uint32_t node, Time now) = 0;

  // ---- runtime ----

  /// The lane of rank `rank`'s non-blocking collective running on fiber
  /// `fiber` (0: the rank program, lane 0), kept until fiber_done.
  virtual Lane lane(std::uint32_t rank, std::uint64_t fiber) = 0;
  virtual void fiber_done(std::uint32_t rank, std::uint64_t fiber) = 0;
  /// A span opens on `lane` (its span() call closes it): spans of a lane
  /// nest, and the recorder writes them once the outermost one has closed.
  virtual void open(Lane lane) = 0;
  virtual void span(Lane lane, std::string_view category, std::string_view name, Time begin,
                    Time end, const Args& args) = 0;
  /// Something that happened to the whole fabric (a tree re-formed).
  virtual void fabric_instant(std::string_view name, Time at, const Args& args) = 0;

 protected:
  explicit TraceSink(TraceDetail detail) : detail_(detail) {}

 private:
  TraceDetail detail_;
};

}  // namespace inca::trace
