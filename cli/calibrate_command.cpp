// `inca calibrate TABLE --fabric-file F --out F2`: fits the host overhead,
// per-link latency and link rate of a fabric to measured all-reduce times,
// prints each row's residual and the overall error, writes the fitted fabric.
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "fabric_flags.hpp"
#include "inca/calibration.hpp"
#include "inca/knobs.hpp"

namespace inca::cli {
namespace {

struct CalibrateArgs {
  std::string table;
  std::string algorithm = "ring";
  std::string out;
  std::string fit = "overhead,latency,rate";
  FabricOptions fabric;
  FabricFlags flags;
  Status env;
};

int fail(const std::string& why, int code = 2) {
  std::cerr << "inca calibrate: " << why << "\n";
  return code;
}

int calibrate_command(CalibrateArgs& a) {
  if (!a.env.ok()) return fail(a.env.message());
  CalibrationSettings settings;
  settings.fit_overhead = settings.fit_latency = settings.fit_rate = false;
  for (const std::string& p : split_list(a.fit)) {
    if (p == "overhead")
      settings.fit_overhead = true;
    else if (p == "latency")
      settings.fit_latency = true;
    else if (p == "rate")
      settings.fit_rate = true;
    else
      return fail("--fit: unknown parameter '" + p + "' (overhead, latency, rate)");
  }
  if (Status s = finish_fabric_flags(a.flags, a.fabric); !s.ok())
    return fail(s.message(), s.code() == StatusCode::config_error ? 1 : 2);
  auto fabric = World::describe_fabric(a.fabric);
  if (!fabric.ok()) return fail(fabric.status().message(), 1);
  auto measured = read_measurements(a.table, a.algorithm);
  if (!measured.ok()) return fail(measured.status().message(), 1);
  auto result = calibrate(*fabric, a.fabric, *measured, settings);
  if (!result.ok()) return fail(result.status().message(), 1);

  const auto format_time = [](Time t) {
    return fmt::format("{:.1f} ns", static_cast<double>(t) / kPicosPerNano);
  };
  fmt::print("# inca calibrate: {} measurements from {} on {}\n", measured->size(), a.table,
             fabric->name.empty() ? "the fabric" : "'" + fabric->name + "'");
  fmt::print(
      "# fitted: send overhead {}, receive overhead {}, link latency {}, link rate x{:.4f} "
      "({:g} Gb/s host ports)\n",
      format_time(result->send_overhead), format_time(result->recv_overhead),
      format_time(result->latency), result->rate_scale, result->host_gbps);
  if (settings.fit_overhead && !result->overhead_split_identified)
    fmt::print(
        "# the measurements do not show which side pays the larger overhead (swapping "
        "them changes no model time); the input fabric's order was kept\n");
  fmt::print("{:>12} {:>20} {:>12} {:>12} {:>9}\n", "bytes", "algorithm", "measured_us", "model_us",
             "error");
  for (const CalibrationRow& r : result->rows)
    fmt::print("{:>12} {:>20} {:>12.3f} {:>12.3f} {:>+8.2f}%\n", r.measured.bytes,
               r.measured.algorithm, r.measured.time_us, r.model_us, 100 * r.relative_error);
  fmt::print("# rms relative error {:.3f}% after {} iterations\n", 100 * result->rms_relative_error,
             result->iterations);
  if (!a.out.empty()) {
    std::ofstream out(a.out);
    if (!out) return fail("cannot write " + a.out, 1);
    out << fmt::format(
               "# Calibrated by `inca calibrate {}` against {} measurements (rms relative "
               "error {:.3f}%): send overhead {}, receive overhead {}, link latency {}, "
               "link rate x{:.4f}.\n",
               a.table, measured->size(), 100 * result->rms_relative_error,
               format_time(result->send_overhead), format_time(result->recv_overhead),
               format_time(result->latency), result->rate_scale)
        << result->fabric.to_yaml();
    fmt::print("# wrote {}\n", a.out);
  }
  return 0;
}

}  // namespace

Action add_calibrate_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "calibrate", "Fit host overhead, link latency and link rate to measured all-reduce times");
  auto a = std::make_shared<CalibrateArgs>();
  a->env = apply_env_overrides(a->fabric);
  cmd->add_option("table", a->table,
                  "Measurements: inca bench JSON/CSV, a CSV with bytes,time_us[,algorithm], "
                  "osu_allreduce or nccl-tests output")
      ->required();
  cmd->add_option("--algorithm", a->algorithm,
                  "The algorithm of rows that do not name one (osu, nccl-tests)")
      ->capture_default_str();
  cmd->add_option("--fit", a->fit, "What to fit: overhead, latency, rate")->capture_default_str();
  cmd->add_option("--out", a->out, "Write the fitted fabric file here");
  add_fabric_flags(*cmd, a->fabric, a->flags);
  return [a] { return calibrate_command(*a); };
}

}  // namespace inca::cli
