// Timelines: what a World records for Perfetto / chrome://tracing when
// FabricOptions::trace names a file (docs/tracing.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "inca/time.hpp"

namespace inca {

/// How much a trace records. Each level adds to the one before.
enum class TraceDetail : std::uint8_t {
  /// Per rank a span per collective (and per attempt); per link and switch
  /// sampled counters; fault instants (losses, retransmissions, switch
  /// restarts, tree re-forms).
  collectives,
  /// ... and inside each collective its steps: send, receive, reduce, the
  /// switch stream (innet), waits.
  steps,
  /// ... and every packet on every link as a slice of its serialisation.
  /// Large: for runs of a few hundred microseconds.
  packets,
};
std::string_view to_string(TraceDetail detail);
std::optional<TraceDetail> parse_trace_detail(std::string_view name);

/// FabricOptions::trace. An empty `file` records nothing and costs one
/// branch per packet.
struct TraceOptions {
  /// Chrome trace-event JSON, written while the World runs and completed
  /// when the last World writing it is destroyed. Worlds of one process
  /// that name the same file share it: each run is placed after everything
  /// recorded before it, so a program's worlds make one timeline.
  std::string file;
  TraceDetail detail = TraceDetail::steps;
  /// Counter sample period; 0: 5 us on sim, 100 us on live.
  Time interval = 0;
  /// The file stops growing at this size: later events are left out and a
  /// final instant says where recording stopped.
  std::uint64_t max_bytes = 256ull << 20;
};

}  // namespace inca
