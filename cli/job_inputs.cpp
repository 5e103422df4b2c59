#include "job_inputs.hpp"

#include "jobs/job_tree.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace inca::cli {

std::size_t JobInputs::errors() const {
  return std::count_if(findings.begin(), findings.end(),
                       [](const Diagnostic& d) { return d.severity == Severity::error; });
}

std::size_t JobInputs::warnings() const {
  return std::count_if(findings.begin(), findings.end(),
                       [](const Diagnostic& d) { return d.severity == Severity::warning; });
}

Result<JobInputs> load_job_inputs(const std::string& fabric, const std::string& jobs_path) {
  std::string fabric_path = fabric;
  if (!std::filesystem::exists(fabric_path)) {
    auto preset = FabricDescription::preset_path(fabric);
    if (!preset.ok())
      return make_error(StatusCode::invalid_argument,
                        "no fabric file '" + fabric + "', and " + preset.status().message());
    fabric_path = *preset;
  }
  if (!jobs_path.empty() && !std::filesystem::exists(jobs_path))
    return make_error(StatusCode::invalid_argument, "no job file '" + jobs_path + "'");
  JobInputs in{FabricDescription::load(fabric_path), std::nullopt, {}, {}};
  in.findings = in.fabric.diagnostics;
  if (jobs_path.empty()) return in;
  JobLoad load = JobSet::load(jobs_path);
  in.findings.insert(in.findings.end(), load.diagnostics.begin(), load.diagnostics.end());
  in.jobs = std::move(load.jobs);
  // Jobs are checked against a fabric that loaded; otherwise only their file is.
  if (in.jobs && in.fabric.ok()) {
    in.check = jobs::check_jobs(*in.fabric.description, *in.jobs);
    in.findings.insert(in.findings.end(), in.check.diagnostics.begin(), in.check.diagnostics.end());
  }
  return in;
}

nlohmann::json to_json(const Diagnostic& d) {
  return {{"file", d.where.file},     {"line", d.where.line},
          {"column", d.where.column}, {"severity", std::string(to_string(d.severity))},
          {"message", d.message},     {"hint", d.hint}};
}

nlohmann::json to_json(const FabricDescription& f, const JobSet& set, const jobs::JobSummary& s,
                       std::size_t index) {
  nlohmann::json hosts = nlohmann::json::array();
  for (std::uint32_t h : s.hosts) hosts.push_back(f.hosts[h].name);
  const JobDescription& job = set.jobs[index];
  return {{"job", s.job},
          {"tenant", job.tenant},
          {"priority", job.priority},
          {"hosts", hosts},
          {"granted", s.granted},
          {"refusal", s.refusal},
          {"trees", s.granted ? jobs::tree_lines(f, s.grant) : std::vector<std::string>{}},
          {"llt_max_bytes", s.granted ? s.grant.llt_max_bytes() : 0},
          {"caps", s.granted ? s.grant.caps.describe() : ""},
          {"streaming", s.streaming},
          {"fallback", s.fallback}};
}

std::optional<JobInputs> load_command_inputs(const std::string& command, const std::string& format,
                                             const std::vector<std::string>& formats,
                                             const std::string& fabric,
                                             const std::string& jobs_path) {
  if (std::find(formats.begin(), formats.end(), format) == formats.end()) {
    std::string choices;
    for (std::size_t i = 0; i < formats.size(); ++i)
      choices += (i == 0 ? "" : i + 1 == formats.size() ? " or " : ", ") + formats[i];
    std::cerr << "inca " << command << ": --format is " << choices << ", not '" << format << "'\n";
    return std::nullopt;
  }
  auto inputs = load_job_inputs(fabric, jobs_path);
  if (!inputs.ok()) {
    std::cerr << "inca " << command << ": " << inputs.status().message() << "\n";
    return std::nullopt;
  }
  return std::move(*inputs);
}

}  // namespace inca::cli
