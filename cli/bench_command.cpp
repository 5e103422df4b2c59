// `inca bench`: the bandwidth-doubling benchmark (nccl-tests flags).
#include <unistd.h>

#include <iostream>
#include <memory>

#include "bench_command.hpp"
#include "bench_flags.hpp"
#include "bench_plot.hpp"
#include "bench_report.hpp"
#include "commands.hpp"
#include "sweep_document.hpp"

namespace inca::cli {
namespace {

int print_failure(std::ostream& err, const std::string& message) {
  err << "inca bench: " << message << "\n";
  return 2;
}

// The report goes to `out`, what was wrong to `err`.
int run(BenchFlags& f, std::ostream& out, std::ostream& err) {
  const auto fail = [&err](const std::string& message) { return print_failure(err, message); };
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
  // Progress only where a person watches: stderr on a terminal.
  ProgressMeter progress(err, &err == &std::cerr && isatty(STDERR_FILENO) != 0);
  options->progress = &progress;
  auto report = run_bench(*options);
  progress.finish();
  if (!report.ok()) return fail(report.status().to_string());
  out << format_report(*report, *options, format) << std::flush;
  if (!f.plot.empty())
    if (Status s = plot_sweep(sweep_document(*report, *options), f.plot); !s.ok())
      return fail(s.to_string());
  for (const BenchRow& r : report->rows)
    if (!check_passed(r.check)) return 1;
  return 0;
}

}  // namespace

Action add_bench_command(CLI::App& app, std::ostream& out, std::ostream& err) {
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Sweep collective sizes on a fabric: in-network vs host algorithms");
  add_bench_flags(*cmd, *flags);
  cmd->add_option("--format", flags->format, "table | json | csv")->capture_default_str();
  cmd->add_option("--plot", flags->plot,
                  "Also draw the sweep (algbw with the model, speed-up with 2(n-1)/n, NIC bytes) "
                  "into FILE.svg or FILE.png (matplotlib, tools/plot/bench_plot.py)");
  return [flags, &out, &err] { return run(*flags, out, err); };
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
