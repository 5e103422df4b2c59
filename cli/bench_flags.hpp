// The flags of `inca bench`, shared by every command that runs a sweep
// (`inca bench`, `inca report`): nccl-tests' -b/-e/-f, the fabric, the
// algorithms, faults and the timeline, with INCA_* variables as defaults.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench_sweep.hpp"
#include "fabric_flags.hpp"
#include "fault_flags.hpp"
#include "inca/status.hpp"
#include "sim_mode_flags.hpp"
#include "trace_flags.hpp"

namespace inca::cli {

/// What the flags hold before they are checked.
struct BenchFlags {
  BenchOptions options;
  std::string min_bytes = "8";
  std::string max_bytes = "64M";
  std::string algos;  // default: innet and the collective's host algorithm
  std::string collective = "allreduce";
  std::vector<std::string> plugins;
  std::string dtype = "f32";
  std::string op = "sum";
  std::string format = "table";
  SimModeFlags sim;  // --payload, --sim-mode, --segment-packets
  std::string fabric = "sim";
  std::uint32_t iterations = 0;  // 0: 1 on sim (deterministic), 5 on live
  FabricFlags fabric_flags;
  CLI::Option* max_bytes_flag = nullptr;
  CLI::Option* window_flag = nullptr;
  FaultFlags faults;
  TraceFlags trace;
  std::string plot;  // --plot FILE.svg|png
  Status env;        // from the INCA_* variables, reported when the command runs
};

/// Registers the sweep's flags on `cmd`; INCA_* variables set their defaults.
void add_bench_flags(CLI::App& cmd, BenchFlags& flags);
/// Checks the flags and turns them into sweep options (plugins are loaded
/// here); invalid_argument naming the flag otherwise.
Result<BenchOptions> bench_options(BenchFlags& flags);

}  // namespace inca::cli
