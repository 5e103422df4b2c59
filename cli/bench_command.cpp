// `inca bench`: the bandwidth-doubling benchmark (nccl-tests flags).
#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

#include "bench_collectives.hpp"
#include "bench_command.hpp"
#include "bench_quantized.hpp"
#include "bench_report.hpp"
#include "bench_sweep.hpp"
#include "commands.hpp"
#include "fabric_flags.hpp"
#include "fault_flags.hpp"
#include "inca/knobs.hpp"
#include "inca/plugin.hpp"

namespace inca::cli {
namespace {

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
  std::string payload = "auto";
  std::string fabric = "sim";
  std::uint32_t iterations = 0;  // 0: 1 on sim (deterministic), 5 on live
  FabricFlags fabric_flags;
  CLI::Option* max_bytes_flag = nullptr;
  FaultFlags faults;
  Status env;                      // from the INCA_* variables, reported when the command runs
  std::ostream* out = &std::cout;  // the report
  std::ostream* err = &std::cerr;  // what was wrong
};

int print_failure(std::ostream& err, const std::string& message) {
  err << "inca bench: " << message << "\n";
  return 2;
}

int run(BenchFlags& f) {
  BenchOptions& o = f.options;
  const auto fail = [&f](const std::string& message) { return print_failure(*f.err, message); };
  if (!f.env.ok()) return fail(f.env.message());
  if (f.fabric == "sim")
    o.fabric.fabric = FabricKind::sim;
  else if (f.fabric == "live")
    o.fabric.fabric = FabricKind::live;
  else
    return fail("unknown --fabric '" + f.fabric + "' (sim, live)");
  const bool live = o.fabric.fabric == FabricKind::live;
  // Live runs a thread per rank on the wall clock: keep the defaults modest.
  if (live && f.fabric_flags.ranks->count() == 0) o.fabric.ranks = 8;
  if (live && f.max_bytes_flag->count() == 0) f.max_bytes = "16M";
  o.iterations = f.iterations != 0 ? f.iterations : (live ? 5 : 1);
  auto min = parse_size(f.min_bytes);
  auto max = parse_size(f.max_bytes);
  if (!min) return fail("--min-bytes '" + f.min_bytes + "' is not a size (e.g. 8, 4K, 64M, 1G)");
  if (!max) return fail("--max-bytes '" + f.max_bytes + "' is not a size (e.g. 8, 4K, 64M, 1G)");
  o.min_bytes = *min;
  o.max_bytes = *max;
  // Before --algos is checked: plugins add the names it may use.
  for (const std::string& path : f.plugins)
    if (Status s = load_plugin(path); !s.ok()) return fail(s.to_string());
  auto collective = parse_collective(f.collective);
  if (!collective)
    return fail("unknown --collective '" + f.collective +
                "' (allreduce, reduce, bcast, barrier, reduce_scatter, allgather)");
  o.collective = *collective;
  o.algorithms = f.algos.empty() ? default_algorithms(o.collective) : split_list(f.algos);
  if (o.algorithms.empty()) return fail("--algos names no algorithm");
  if (o.quantized) {
    if (o.collective != Collective::allreduce)
      return fail("--quantized needs --collective allreduce");
    if (std::find(o.algorithms.begin(), o.algorithms.end(), kQuantizedAlgorithm) ==
        o.algorithms.end())
      o.algorithms.push_back(kQuantizedAlgorithm);
  }
  auto dtype = parse_dtype(f.dtype);
  if (!dtype) return fail("unknown --dtype '" + f.dtype + "'");
  auto op = parse_op(f.op);
  if (!op) return fail("unknown --op '" + f.op + "'");
  o.dtype = *dtype;
  o.op = *op;
  if (Status s = finish_fabric_flags(f.fabric_flags, o.fabric); !s.ok()) return fail(s.message());
  if (f.payload == "auto")
    o.payload = PayloadMode::automatic;
  else if (f.payload == "on")
    o.payload = PayloadMode::on;
  else if (f.payload == "off")
    o.payload = PayloadMode::off;
  else
    return fail("--payload must be auto, on or off");
  if (live && o.payload == PayloadMode::off)
    return fail(
        "--payload off is not meaningful on the live fabric: its wall-clock time "
        "includes moving and reducing the data");
  if (live) o.payload = PayloadMode::on;
  ReportFormat format;
  if (f.format == "table")
    format = ReportFormat::table;
  else if (f.format == "json")
    format = ReportFormat::json;
  else if (f.format == "csv")
    format = ReportFormat::csv;
  else
    return fail("--format must be table, json or csv");

  if (Status s = apply_fault_flags(f.faults, o.fabric); !s.ok()) return fail(s.message());
  auto report = run_bench(o);
  if (!report.ok()) return fail(report.status().to_string());
  *f.out << format_report(*report, o, format) << std::flush;
  for (const BenchRow& r : report->rows)
    if (!check_passed(r.check)) return 1;
  return 0;
}

}  // namespace

Action add_bench_command(CLI::App& app, std::ostream& out, std::ostream& err) {
  auto flags = std::make_shared<BenchFlags>();
  flags->out = &out;
  flags->err = &err;
  CLI::App* cmd = app.add_subcommand(
      "bench", "Sweep collective sizes on a fabric: in-network vs host algorithms");
  BenchOptions& o = flags->options;
  // INCA_* variables replace the defaults; flags override both.
  AllreduceOptions call;
  flags->env = apply_env_overrides(o.fabric, &call);
  o.reproducible = call.reproducible;
  if (call.algorithm != "auto") flags->algos = call.algorithm;
  flags->fabric = std::string(to_string(o.fabric.fabric));
  cmd->add_option("-b,--min-bytes", flags->min_bytes, "Smallest message (K/M/G suffixes)")
      ->capture_default_str();
  flags->max_bytes_flag =
      cmd->add_option("-e,--max-bytes", flags->max_bytes, "Largest message (default 16M on live)")
          ->capture_default_str();
  cmd->add_option("-f,--step-factor", o.step_factor, "Size multiplier between rows")
      ->capture_default_str();
  cmd->add_option("--fabric", flags->fabric,
                  "sim (discrete events, virtual time) | live (threads, wall clock)")
      ->capture_default_str();
  cmd->add_option("--iters", flags->iterations,
                  "Runs per size; rows report the median (default: 1 on sim, 5 on live)");
  cmd->add_option("--collective", flags->collective,
                  "allreduce | reduce | bcast | barrier | reduce_scatter | allgather")
      ->capture_default_str();
  cmd->add_option("--algos", flags->algos,
                  "Comma-separated algorithms: auto, innet, the collective's host algorithm, or "
                  "(allreduce) any registered name (default: innet and the host algorithm)");
  cmd->add_option("--plugin", flags->plugins,
                  "Shared library whose inca_register_algorithms() registers all-reduce "
                  "algorithms (repeatable; inca/plugin.hpp)");
  cmd->add_option("--dtype", flags->dtype, "Element type")->capture_default_str();
  cmd->add_option("--op", flags->op, "Reduction")->capture_default_str();
  add_fabric_flags(*cmd, o.fabric, flags->fabric_flags);
  cmd->add_option("--window", o.fabric.window, "Slots in flight per host (the tree's slots)")
      ->capture_default_str();
  cmd->add_option("--payload", flags->payload,
                  "Carry data: auto (when it fits in memory), on, off (timing only)")
      ->capture_default_str();
  cmd->add_option("--format", flags->format, "table | json | csv")->capture_default_str();
  cmd->add_flag("--stats", o.stats,
                "Print each row's counters (retransmissions, drops, faults, recovery) after the "
                "table; in JSON, a \"stats\" key per row");
  cmd->add_flag("--quantized", o.quantized,
                "Add innet_quantized rows (integer-only switches, SwitchML block floating point) "
                "with their error against the exact f64 sum");
  cmd->add_flag("--nonblocking", o.nonblocking,
                "Start each collective with its non-blocking call (iallreduce, ...) and complete "
                "it with wait");
  cmd->add_option("--outstanding", o.outstanding,
                  "Non-blocking collectives started at once per run, each on its own buffers "
                  "(implies --nonblocking): algbw counts all of them, model_us is theirs one "
                  "after the other")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_flag("--reproducible", o.reproducible,
                "Switches fold children in a fixed order: bit-identical results whatever the "
                "arrival order");
  add_fault_flags(*cmd, flags->faults);
  return [flags] { return run(*flags); };
}

int run_bench_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"inca"};
  app.require_subcommand(1);
  const Action action = add_bench_command(app, out, err);
  // CLI11 takes a vector of arguments last first.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  reversed.push_back("bench");
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }
  return action();
}

}  // namespace inca::cli
