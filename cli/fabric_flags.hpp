// The flags that say which fabric a command runs on, shared by `inca bench`,
// `inca describe` and the commands that follow: --fabric-file / --preset, or
// the built-in star / leaf-spine's shape, and every element's timing. With a
// file the timing flags (and INCA_* knobs) that were given override its
// values, and shape flags are refused: the file says the shape.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "inca/status.hpp"
#include "inca/world.hpp"

namespace inca::cli {

struct FabricFlags {
  std::string fabric_file;
  std::string preset;
  std::string topology;
  double latency_ns = 500;
  double send_overhead_ns = 0, recv_overhead_ns = 0, gap_ns = 0;
  double switch_latency_ns = 0, aggregation_latency_ns = 0;
  std::string switch_dtypes, switch_ops;  // empty: every dtype / op
  CLI::Option* ranks = nullptr;
  // Each flag that describes the fabric, and what it sets in the overrides.
  std::vector<std::pair<CLI::Option*, std::function<void(FabricOptions&)>>> overriding;
  // Flags that only shape the built-in fabric.
  std::vector<CLI::Option*> shape;
};

/// The names of a comma-separated list ("innet,ring"), empty items dropped.
std::vector<std::string> split_list(const std::string& text);

/// Adds the flags to `cmd`, bound to `fabric` (defaults: its current values,
/// so INCA_* knobs applied before show as the defaults).
void add_fabric_flags(CLI::App& cmd, FabricOptions& fabric, FabricFlags& flags);

/// After parsing: the built-in fabric's fields from the flags, or, with a
/// file or preset, its description loaded with the given flags as overrides
/// (fabric.description set, fabric.ranks its host count). Errors: a flag that
/// does not parse or conflicts with a file, and a file's diagnostics.
Status finish_fabric_flags(FabricFlags& flags, FabricOptions& fabric);

}  // namespace inca::cli
