// `inca validate FABRIC [JOBS] [--format text|json]`: every problem of a
// fabric file and a job file in one pass, each located and hinted, then what
// each job would get (trees, low-latency limit, streaming, fallback). Exit 0
// when valid (warnings allowed), 1 when not, 2 on a usage error.
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "job_inputs.hpp"
#include "jobs/job_tree.hpp"

namespace inca::cli {
namespace {

struct ValidateArgs {
  std::string fabric;
  std::string jobs;
  std::string format = "text";
};

void print_summary(const FabricDescription& f, const JobSet& set,
                   const std::vector<jobs::JobSummary>& summaries) {
  for (std::size_t j = 0; j < summaries.size(); ++j) {
    const jobs::JobSummary& s = summaries[j];
    const JobDescription& job = set.jobs[j];
    std::cout << fmt::format("job '{}' (tenant '{}', priority {}): {} rank(s)\n", s.job, job.tenant,
                             job.priority, s.hosts.size());
    if (!s.granted) {
      std::cout << "  trees:     none (" << s.refusal << ")\n";
    } else {
      for (const std::string& t : jobs::tree_lines(f, s.grant))
        std::cout << "  tree:      " << t << "\n";
      std::cout << fmt::format("  low-latency trees serve messages up to {} B ({} slots x {} B)\n",
                               s.grant.llt_max_bytes(), s.grant.slots, s.grant.payload_bytes);
      std::cout << "  caps:      " << s.grant.caps.describe() << "\n";
    }
    std::cout << "  streaming: " << s.streaming << "\n";
    std::cout << "  fallback:  " << s.fallback << "\n";
  }
}

int validate(const ValidateArgs& a) {
  auto inputs = load_command_inputs("validate", a.format, {"text", "json"}, a.fabric, a.jobs);
  if (!inputs) return 2;
  const JobInputs& in = *inputs;
  const std::vector<Diagnostic>& findings = in.findings;
  const std::size_t errors = in.errors(), warnings = in.warnings();
  const bool valid = errors == 0;
  if (a.format == "json") {
    nlohmann::json out{{"valid", valid}, {"errors", errors}, {"warnings", warnings}};
    out["findings"] = nlohmann::json::array();
    for (const Diagnostic& d : findings) out["findings"].push_back(to_json(d));
    out["jobs"] = nlohmann::json::array();
    for (std::size_t j = 0; j < in.check.summaries.size(); ++j)
      out["jobs"].push_back(to_json(*in.fabric.description, *in.jobs, in.check.summaries[j], j));
    std::cout << out.dump(2) << "\n";
    return valid ? 0 : 1;
  }
  for (const Diagnostic& d : findings) std::cout << d.to_string() << "\n";
  if (!in.check.summaries.empty())
    print_summary(*in.fabric.description, *in.jobs, in.check.summaries);
  std::cout << fmt::format("{}: {} error(s), {} warning(s)\n", valid ? "valid" : "invalid", errors,
                           warnings);
  return valid ? 0 : 1;
}

}  // namespace

Action add_validate_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check a fabric file and a job file: every problem, located, with a hint");
  auto a = std::make_shared<ValidateArgs>();
  cmd->add_option("fabric", a->fabric, "Fabric file (YAML) or preset name")->required();
  cmd->add_option("jobs", a->jobs, "Job file (YAML)");
  cmd->add_option("--format", a->format, "text or json");
  return [a] { return validate(*a); };
}

}  // namespace inca::cli
