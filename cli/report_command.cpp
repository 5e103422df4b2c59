// `inca report FILE.html`: runs a sweep (the flags of `inca bench`) or reads
// earlier ones (--from), and writes one self-contained page about it
// (report_page.hpp).
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>

#include "bench_flags.hpp"
#include "commands.hpp"
#include "report_page.hpp"
#include "sweep_document.hpp"

namespace inca::cli {
namespace {

struct ReportArgs {
  BenchFlags bench;
  std::string html;
  std::vector<std::string> from;
  std::string save;
};

int fail(const std::string& message) {
  std::cerr << "inca report: " << message << "\n";
  return 2;
}

int run(ReportArgs& a) {
  auto options = bench_options(a.bench);
  if (!options.ok()) return fail(options.status().message());
  // Its findings read NIC bytes, counters and checks, which only a run has.
  const std::string analytic =
      "a report describes a simulated sweep; an analytic one (--sim-mode analytic) has no NIC "
      "bytes, counters or checks: `inca bench --sim-mode analytic` prints it";
  if (options->analytic) return fail(analytic);
  nlohmann::json sweep;
  for (const std::string& path : a.from) {
    auto loaded = load_sweep(path, *options);
    if (!loaded.ok()) return fail(loaded.status().message());
    for (const auto& row : (*loaded)["rows"])
      if (row.value("model", "") == "analytic") return fail(path + ": " + analytic);
    if (sweep.is_null())
      sweep = std::move(*loaded);
    else
      for (auto& row : (*loaded)["rows"]) sweep["rows"].push_back(std::move(row));
  }
  if (a.from.empty()) {
    auto report = run_bench(*options);
    if (!report.ok()) return fail(report.status().to_string());
    std::cerr << "inca report: sweep of " << report->rows.size() << " rows in "
              << report->wall_seconds << " s\n";
    sweep = sweep_document(*report, *options);
  }
  if (!a.save.empty()) {
    std::ofstream out(a.save);
    out << sweep.dump(1) << "\n";
    if (!out) return fail("cannot write " + a.save);
  }
  const auto start = std::chrono::steady_clock::now();
  if (Status s = write_report(sweep, a.html); !s.ok()) return fail(s.to_string());
  std::cerr << "inca report: wrote " << a.html << " in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
            << " s (beyond the sweep)\n";
  return 0;
}

}  // namespace

Action add_report_command(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Write one self-contained HTML page about a sweep: the fabric, its tree, the findings in "
      "words, plots, tables and counters (runs the sweep, or reads --from files)");
  cmd->add_option("page", a->html, "The HTML file to write")->required();
  cmd->add_option("--from", a->from,
                  "Read the sweep from this file instead of running one: a document saved with "
                  "--save, or the rows of `inca bench --format json` (repeatable)");
  cmd->add_option("--save", a->save, "Also save the sweep as a JSON document for a later --from");
  add_bench_flags(*cmd, a->bench);
  return [a] { return run(*a); };
}

}  // namespace inca::cli
