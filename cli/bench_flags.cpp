#include "bench_flags.hpp"

#include <algorithm>
#include <sstream>

#include "bench_quantized.hpp"
#include "inca/knobs.hpp"
#include "inca/plugin.hpp"

namespace inca::cli {
namespace {

Status bad(const std::string& message) {
  return make_error(StatusCode::invalid_argument, message);
}

}  // namespace

void add_bench_flags(CLI::App& cmd, BenchFlags& f) {
  BenchOptions& o = f.options;
  // INCA_* variables replace the defaults; flags override both.
  AllreduceOptions call;
  f.env = apply_env_overrides(o.fabric, &call);
  o.reproducible = call.reproducible;
  if (call.algorithm != "auto") f.algos = call.algorithm;
  f.fabric = std::string(to_string(o.fabric.fabric));
  cmd.add_option("-b,--min-bytes", f.min_bytes, "Smallest message (K/M/G suffixes)")
      ->capture_default_str();
  f.max_bytes_flag =
      cmd.add_option("-e,--max-bytes", f.max_bytes, "Largest message (default 16M on live)")
          ->capture_default_str();
  cmd.add_option("-f,--step-factor", o.step_factor, "Size multiplier between rows")
      ->capture_default_str();
  cmd.add_option("--fabric", f.fabric,
                 "sim (discrete events, virtual time) | live (threads, wall clock)")
      ->capture_default_str();
  cmd.add_option("--iters", f.iterations,
                 "Runs per size; rows report the median (default: 1 on sim, 5 on live)");
  cmd.add_option("--collective", f.collective,
                 "allreduce | reduce | bcast | barrier | reduce_scatter | allgather")
      ->capture_default_str();
  cmd.add_option("--algos", f.algos,
                 "Comma-separated algorithms: auto, innet, the collective's host algorithm, or "
                 "(allreduce) any registered name (default: innet and the host algorithm)");
  cmd.add_option("--plugin", f.plugins,
                 "Shared library whose inca_register_algorithms() registers all-reduce "
                 "algorithms (repeatable; inca/plugin.hpp)");
  cmd.add_option("--dtype", f.dtype, "Element type")->capture_default_str();
  cmd.add_option("--op", f.op, "Reduction")->capture_default_str();
  add_fabric_flags(cmd, o.fabric, f.fabric_flags);
  f.window_flag = cmd.add_option("--window", o.fabric.window,
                                 "Slots in flight per host (the tree's slots); given, it replaces "
                                 "the window a fabric file gives its hosts")
                      ->capture_default_str();
  add_sim_mode_flags(cmd, f.sim, o.fabric, /*analytic=*/true);
  cmd.add_flag("--stats", o.stats,
               "Print each row's counters (retransmissions, drops, faults, recovery) after the "
               "table; in JSON, a \"stats\" key per row");
  cmd.add_flag("--quantized", o.quantized,
               "Add innet_quantized rows (integer-only switches, SwitchML block floating point) "
               "with their error against the exact f64 sum");
  cmd.add_flag("--nonblocking", o.nonblocking,
               "Start each collective with its non-blocking call (iallreduce, ...) and complete "
               "it with wait");
  cmd.add_option("--outstanding", o.outstanding,
                 "Non-blocking collectives started at once per run, each on its own buffers "
                 "(implies --nonblocking): algbw counts all of them, model_us is theirs one "
                 "after the other")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd.add_flag("--reproducible", o.reproducible,
               "Switches fold children in a fixed order: bit-identical results whatever the "
               "arrival order");
  add_fault_flags(cmd, f.faults);
  add_trace_flags(cmd, f.trace);
}

Result<BenchOptions> bench_options(BenchFlags& f) {
  BenchOptions& o = f.options;
  if (!f.env.ok()) return bad(f.env.message());
  if (f.fabric == "sim")
    o.fabric.fabric = FabricKind::sim;
  else if (f.fabric == "live")
    o.fabric.fabric = FabricKind::live;
  else
    return bad("unknown --fabric '" + f.fabric + "' (sim, live)");
  const bool live = o.fabric.fabric == FabricKind::live;
  // Live runs a thread per rank on the wall clock: keep the defaults modest.
  if (live && f.fabric_flags.ranks->count() == 0) o.fabric.ranks = 8;
  if (live && f.max_bytes_flag->count() == 0) f.max_bytes = "16M";
  if (f.window_flag->count() > 0) o.fabric.overrides.window = o.fabric.window;
  o.iterations = f.iterations != 0 ? f.iterations : (live ? 5 : 1);
  auto min = parse_size(f.min_bytes);
  auto max = parse_size(f.max_bytes);
  if (!min) return bad("--min-bytes '" + f.min_bytes + "' is not a size (e.g. 8, 4K, 64M, 1G)");
  if (!max) return bad("--max-bytes '" + f.max_bytes + "' is not a size (e.g. 8, 4K, 64M, 1G)");
  o.min_bytes = *min;
  o.max_bytes = *max;
  // Before --algos is checked: plugins add the names it may use.
  for (const std::string& path : f.plugins)
    if (Status s = load_plugin(path); !s.ok()) return bad(s.to_string());
  auto collective = parse_collective(f.collective);
  if (!collective)
    return bad("unknown --collective '" + f.collective +
               "' (allreduce, reduce, bcast, barrier, reduce_scatter, allgather)");
  o.collective = *collective;
  o.algorithms = f.algos.empty() ? default_algorithms(o.collective) : split_list(f.algos);
  if (o.algorithms.empty()) return bad("--algos names no algorithm");
  if (o.quantized) {
    if (o.collective != Collective::allreduce)
      return bad("--quantized needs --collective allreduce");
    if (std::find(o.algorithms.begin(), o.algorithms.end(), kQuantizedAlgorithm) ==
        o.algorithms.end())
      o.algorithms.push_back(kQuantizedAlgorithm);
  }
  auto dtype = parse_dtype(f.dtype);
  if (!dtype) return bad("unknown --dtype '" + f.dtype + "'");
  auto op = parse_op(f.op);
  if (!op) return bad("unknown --op '" + f.op + "'");
  o.dtype = *dtype;
  o.op = *op;
  INCA_RETURN_IF_ERROR(finish_fabric_flags(f.fabric_flags, o.fabric));
  auto payload = apply_sim_mode_flags(f.sim, o.fabric);
  if (!payload.ok()) return payload.status();
  o.payload = *payload;

  INCA_RETURN_IF_ERROR(apply_fault_flags(f.faults, o.fabric));
  INCA_RETURN_IF_ERROR(apply_trace_flags(f.trace, o.fabric));
  o.analytic = f.sim.analytic();
  if (o.analytic && !o.fabric.faults.empty())
    return bad("--sim-mode analytic runs nothing, so it injects no faults: simulate them");
  if (o.analytic && !o.fabric.trace.file.empty())
    return bad("--sim-mode analytic runs nothing, so it has no timeline to --trace");
  return o;
}

}  // namespace inca::cli
