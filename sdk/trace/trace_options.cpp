#include "inca/trace.hpp"

namespace inca {

std::string_view to_string(TraceDetail detail) {
  switch (detail) {
    case TraceDetail::collectives:
      return "collectives";
    case TraceDetail::steps:
      return "steps";
    case TraceDetail::packets:
      return "packets";
  }
  return "?";
}

std::optional<TraceDetail> parse_trace_detail(std::string_view name) {
  for (TraceDetail d : {TraceDetail::collectives, TraceDetail::steps, TraceDetail::packets})
    if (name == to_string(d)) return d;
  return std::nullopt;
}

}  // namespace inca
