// `inca run FABRIC JOBS [--format table|json] [--algorithm NAME] [--payload
// auto|on|off] [--sim-mode packet|segment]`: every job of a job file at once
// on one simulated fabric, then each alone; per job and workload step the
// time, algbw, busbw, the algorithm and trees that ran and why, the slowdown
// against running alone, whether the results were exact and the simulation
// mode. Exit 0 when every result was exact, 1 when the config is invalid
// (with the findings of `inca validate`) or a collective failed, 2 on a
// usage error.
#include <unistd.h>

#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench_collectives.hpp"
#include "bench_report.hpp"
#include "commands.hpp"
#include "job_inputs.hpp"
#include "job_runner.hpp"
#include "sim_mode_flags.hpp"

namespace inca::cli {
namespace {

struct RunArgs {
  std::string fabric, jobs, format = "table";
  bool alone = true;
  bool stats = false;
  std::string algorithm = "auto";
  SimModeFlags sim;
  FabricOptions options;  // sim_mode and segment_packets: INCA_* knobs, then the flags
  Status env;             // from the INCA_* knobs, reported when the command runs
};

nlohmann::json row_json(const JobStepRow& r) {
  return {{"job", r.job},
          {"tenant", r.tenant},
          {"step", r.step},
          {"collective", std::string(to_string(r.collective))},
          {"bytes", r.bytes},
          {"dtype", std::string(to_string(r.dtype))},
          {"op", std::string(to_string(r.op))},
          {"ranks", r.ranks},
          {"repeat", r.repeat},
          {"start_us", r.start_us},
          {"time_us", r.time_us},
          {"alone_us", r.alone_us},
          {"slowdown", r.slowdown},
          {"algbw_GBps", r.algbw_GBps},
          {"busbw_GBps", r.busbw_GBps},
          {"algorithm", r.algorithm},
          {"alone_algorithm", r.alone_algorithm},
          {"why", r.why},
          {"trees", r.trees},
          {"check", r.check},
          {"model", std::string(to_string(r.model))}};
}

void print_table(const JobRunReport& report, const FabricOptions& asked, bool stats) {
  std::cout << fmt::format(
      "{:<14} {:>4} {:<14} {:>10} {:<9} {:>5} {:>11} {:>11} {:>8} {:>10} "
      "{:>10} {:<22} {}\n",
      "job", "step", "collective", "bytes", "dtype/op", "ranks", "time_us", "alone_us", "slowdown",
      "algbw_GBps", "busbw_GBps", "algorithm", "check");
  for (const JobStepRow& r : report.rows) {
    std::cout << fmt::format(
        "{:<14} {:>4} {:<14} {:>10} {:<9} {:>5} {:>11.2f} {:>11.2f} {:>8.3f} {:>10.2f} {:>10.2f} "
        "{:<22} {}{}\n",
        r.job, r.step, fmt::format("{} x{}", to_string(r.collective), r.repeat), r.bytes,
        fmt::format("{}/{}", to_string(r.dtype), to_string(r.op)), r.ranks, r.time_us, r.alone_us,
        r.slowdown, r.algbw_GBps, r.busbw_GBps, r.algorithm, r.check,
        r.model == SimMode::packet ? "" : fmt::format("  (model {})", to_string(r.model)));
    std::cout << "    trees: " << r.trees << "\n    why:   " << r.why << "\n";
  }
  for (const LockInterval& l : report.locks)
    std::cout << fmt::format(
        "streaming lock: job '{}' step {} held it from {:.2f} us to {:.2f} us\n", l.job, l.step,
        to_micros(l.from), to_micros(l.to));
  if (!report.payload)
    std::cout << "payload-free: the buffers did not fit in memory (or --payload off), so times "
                 "are measured without data and results are not checked\n";
  if (stats)
    std::cout << "stats of the run with every job (counters that moved):"
              << moved_counters(report.stats) << "\n";
  FabricOptions ran = asked;
  ran.sim_mode = report.model;
  std::cout << describe_sim_mode(ran, "runs") << "\n";
  if (report.model != asked.sim_mode)
    std::cout << "the run carried data, so it was simulated packet by packet (--payload off "
                 "for segment mode)\n";
}

int usage_error(const std::string& message) {
  std::cerr << "inca run: " << message << "\n";
  return 2;
}

int run(RunArgs& a) {
  if (!a.env.ok()) return usage_error(a.env.message());
  auto payload = apply_sim_mode_flags(a.sim, a.options);
  if (!payload.ok()) return usage_error(payload.status().message());
  auto inputs = load_command_inputs("run", a.format, {"table", "json"}, a.fabric, a.jobs);
  if (!inputs) return 2;
  const JobInputs& in = *inputs;
  if (in.jobs)
    for (const JobDescription& job : in.jobs->jobs)
      for (const WorkloadStep& step : job.workload)
        if (Status s = check_collective_algorithm(step.collective, a.algorithm); !s.ok())
          return usage_error(fmt::format("--algorithm: job '{}': {}", job.name, s.message()));
  nlohmann::json out{{"valid", in.errors() == 0}, {"findings", nlohmann::json::array()}};
  for (const Diagnostic& d : in.findings) {
    out["findings"].push_back(to_json(d));
    if (a.format == "table") std::cerr << d.to_string() << "\n";
  }
  if (in.errors() > 0) {
    if (a.format == "json") std::cout << out.dump(2) << "\n";
    std::cerr << fmt::format("inca run: the config is invalid ({} error(s)); nothing ran\n",
                             in.errors());
    return 1;
  }
  std::vector<std::vector<std::uint32_t>> hosts;
  for (const jobs::JobSummary& s : in.check.summaries) hosts.push_back(s.hosts);
  ProgressMeter progress(std::cerr, isatty(STDERR_FILENO) != 0);
  auto report = run_jobs(*in.fabric.description, *in.jobs, hosts,
                         {.payload = *payload,
                          .fabric = a.options,
                          .algorithm = a.algorithm,
                          .alone = a.alone,
                          .progress = &progress});
  progress.finish();
  if (!report.ok()) {
    std::cerr << "inca run: " << report.status().to_string() << "\n";
    return 1;
  }
  if (a.format == "json") {
    out["payload"] = report->payload;
    out["rows"] = nlohmann::json::array();
    for (const JobStepRow& r : report->rows) out["rows"].push_back(row_json(r));
    out["locks"] = nlohmann::json::array();
    for (const LockInterval& l : report->locks)
      out["locks"].push_back({{"job", l.job},
                              {"step", l.step},
                              {"from_us", to_micros(l.from)},
                              {"to_us", to_micros(l.to)}});
    out["events"] = report->events;
    out["stats"] = stats_json(report->stats);
    std::cout << out.dump(2) << "\n";
  } else {
    print_table(*report, a.options, a.stats);
  }
  return report->all_exact() ? 0 : 1;
}

}  // namespace

Action add_run_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "run", "Run every job of a job file at once on one simulated fabric, then each alone");
  auto a = std::make_shared<RunArgs>();
  cmd->add_option("fabric", a->fabric, "Fabric file (YAML) or preset name")->required();
  cmd->add_option("jobs", a->jobs, "Job file (YAML)")->required();
  cmd->add_option("--format", a->format, "table or json");
  cmd->add_flag("!--no-alone", a->alone, "Skip the runs of each job alone (no slowdown)");
  cmd->add_flag("--stats", a->stats,
                "Print the counters of the run with every job that moved (retransmissions, "
                "drops, ...; always in JSON)");
  cmd->add_option("--algorithm", a->algorithm,
                  "What every step asks for: auto (the admission's choice), innet (where the "
                  "switches admit the step, else its host algorithm), or a host algorithm "
                  "(ring, recursive_doubling, rabenseifner, ...) that runs as asked")
      ->capture_default_str();
  a->env = apply_sim_mode_knobs(a->options);
  add_sim_mode_flags(*cmd, a->sim, a->options);
  return [a] { return run(*a); };
}

}  // namespace inca::cli
