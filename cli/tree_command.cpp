// `inca tree FABRIC JOBS --job NAME [--format text|dot|svg] [--resources]`:
// the trees a job would get on the fabric (each switch with its children and
// the slots and quota share it gives the job), as text, Graphviz DOT, or SVG
// rendered by `dot`; --resources adds what every job holds on every switch.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "external_tool.hpp"
#include "job_inputs.hpp"
#include "jobs/job_tree.hpp"

namespace inca::cli {
namespace {

struct TreeArgs {
  std::string fabric, jobs, job, format = "text";
  bool resources = false;
};

Result<std::string> render_svg(const std::string& dot) {
  const std::string base =
      (std::filesystem::temp_directory_path() / ("inca-tree-" + std::to_string(::getpid())))
          .string();
  std::ofstream(base + ".dot") << dot;
  Status drawn = run_tool({"dot", "-Tsvg", base + ".dot", "-o", base + ".svg"},
                          std::chrono::seconds(60), "apt-get install graphviz");
  std::stringstream svg;
  if (drawn.ok()) svg << std::ifstream(base + ".svg").rdbuf();
  std::filesystem::remove(base + ".dot");
  std::filesystem::remove(base + ".svg");
  if (!drawn.ok()) return drawn;
  return svg.str();
}

int tree(const TreeArgs& a) {
  auto inputs = load_command_inputs("tree", a.format, {"text", "dot", "svg"}, a.fabric, a.jobs);
  if (!inputs) return 2;
  const JobInputs& in = *inputs;
  if (!in.fabric.ok() || !in.jobs) {
    for (const Diagnostic& d : in.findings) std::cerr << d.to_string() << "\n";
    return 1;
  }
  const FabricDescription& f = *in.fabric.description;
  const jobs::JobSummary* job = nullptr;
  for (const jobs::JobSummary& s : in.check.summaries)
    if (s.job == a.job || (a.job.empty() && in.check.summaries.size() == 1)) job = &s;
  if (!job && !(a.job.empty() && a.resources)) {
    std::cerr << "inca tree: "
              << (a.job.empty() ? "say which job (--job NAME)" : "no job '" + a.job + "'") << " in "
              << a.jobs << "\n";
    return 2;
  }
  if (job) {
    if (a.format == "text") {
      std::cout << jobs::job_tree_text(f, *job, in.check.holdings);
    } else if (a.format == "dot") {
      std::cout << jobs::job_tree_dot(f, *job, in.check.holdings);
    } else {
      auto svg = render_svg(jobs::job_tree_dot(f, *job, in.check.holdings));
      if (!svg.ok()) {
        std::cerr << "inca tree: " << svg.status().message() << "\n";
        return 1;
      }
      std::cout << *svg;
    }
  }
  if (a.resources) std::cout << jobs::holdings_table(f, in.check.holdings);
  return job && !job->granted ? 1 : 0;
}

}  // namespace

Action add_tree_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("tree", "Draw the trees a job of a job file gets on a fabric");
  auto a = std::make_shared<TreeArgs>();
  cmd->add_option("fabric", a->fabric, "Fabric file (YAML) or preset name")->required();
  cmd->add_option("jobs", a->jobs, "Job file (YAML)")->required();
  cmd->add_option("--job", a->job, "The job to draw (may be left out when the file has one)");
  cmd->add_option("--format", a->format, "text, dot (Graphviz) or svg (rendered by dot)");
  cmd->add_flag("--resources", a->resources, "Also print what every job holds on every switch");
  return [a] { return tree(*a); };
}

}  // namespace inca::cli
