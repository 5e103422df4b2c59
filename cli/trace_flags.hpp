// The timeline flags of a command that runs a World (--trace FILE.json,
// --trace-detail, --trace-interval, --trace-max-mb), turned into
// FabricOptions::trace. A command adds them with one call and applies them
// with another (docs/tracing.md).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "inca/status.hpp"
#include "inca/world.hpp"

namespace inca::cli {

struct TraceFlags {
  std::string file;
  std::string detail = "steps";
  std::string interval;  ///< "": the fabric's default (5us sim, 100us live)
  double max_mb = 256;
};

/// Registers the flags on `cmd`.
void add_trace_flags(CLI::App& cmd, TraceFlags& flags);
/// Applies them; invalid_argument naming the flag on a bad value.
Status apply_trace_flags(const TraceFlags& flags, FabricOptions& fabric);

}  // namespace inca::cli
