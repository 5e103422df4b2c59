// A fabric (file or preset name) and a job file as `inca validate` and
// `inca tree` take them: every finding of both, and the checks of the jobs
// on the fabric when both loaded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inca/job_description.hpp"
#include "jobs/job_checks.hpp"

namespace inca::cli {

struct JobInputs {
  FabricLoad fabric;
  std::optional<JobSet> jobs;
  jobs::JobCheck check;
  std::vector<Diagnostic> findings;  ///< the fabric's, the job file's, then the checks'
  std::size_t errors() const;
  std::size_t warnings() const;
};

/// Loads both (`jobs_path` may be empty). A usage problem (a file or preset
/// that does not exist) is an error Status, to be reported with exit code 2.
Result<JobInputs> load_job_inputs(const std::string& fabric, const std::string& jobs_path);

/// The start `inca validate`, `inca tree` and `inca run` share: `format` must
/// be one of `formats`, then the inputs load. On a usage error it prints
/// "inca COMMAND: ..." to stderr and returns nothing (the command exits 2).
std::optional<JobInputs> load_command_inputs(const std::string& command, const std::string& format,
                                             const std::vector<std::string>& formats,
                                             const std::string& fabric,
                                             const std::string& jobs_path);

/// A finding as `--format json` prints it: {file, line, column, severity, message, hint}.
nlohmann::json to_json(const Diagnostic& finding);

/// Job `index`'s summary as `inca validate --format json` prints it: job,
/// tenant, priority, hosts, granted, refusal, trees, llt_max_bytes, caps,
/// streaming, fallback.
nlohmann::json to_json(const FabricDescription& fabric, const JobSet& jobs,
                       const jobs::JobSummary& summary, std::size_t index);

}  // namespace inca::cli
