// `inca bench`: the bandwidth-doubling benchmark (nccl-tests flags).
#include <iostream>
#include <memory>

#include "bench_flags.hpp"
#include "bench_plot.hpp"
#include "bench_report.hpp"
#include "commands.hpp"
#include "sweep_document.hpp"

namespace inca::cli {
namespace {

int fail(const std::string& message) {
  std::cerr << "inca bench: " << message << "\n";
  return 2;
}

int run(BenchFlags& f) {
  ReportFormat format;
  if (f.format == "table")
    format = ReportFormat::table;
  else if (f.format == "json")
    format = ReportFormat::json;
  else if (f.format == "csv")
    format = ReportFormat::csv;
  else
    return fail("--format must be table, json or csv");
  if (!f.plot.empty() && !plot_format_known(f.plot))
    return fail("--plot '" + f.plot + "': the file must end in .svg or .png");
  auto options = bench_options(f);
  if (!options.ok()) return fail(options.status().message());
  auto report = run_bench(*options);
  if (!report.ok()) return fail(report.status().to_string());
  std::cout << format_report(*report, *options, format) << std::flush;
  if (!f.plot.empty())
    if (Status s = plot_sweep(sweep_document(*report, *options), f.plot); !s.ok())
      return fail(s.to_string());
  for (const BenchRow& r : report->rows)
    if (!check_passed(r.check)) return 1;
  return 0;
}

}  // namespace

Action add_bench_command(CLI::App& app) {
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Sweep collective sizes on a fabric: in-network vs host algorithms");
  add_bench_flags(*cmd, *flags);
  cmd->add_option("--format", flags->format, "table | json | csv")->capture_default_str();
  cmd->add_option("--plot", flags->plot,
                  "Also draw the sweep (algbw with the model, speed-up with 2(n-1)/n, NIC bytes) "
                  "into FILE.svg or FILE.png (matplotlib, tools/plot/bench_plot.py)");
  return [flags] { return run(*flags); };
}

}  // namespace inca::cli
