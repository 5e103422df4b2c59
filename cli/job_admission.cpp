#include "job_admission.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "bench_collectives.hpp"
#include "jobs/job_checks.hpp"
#include "jobs/job_tree.hpp"

namespace inca::cli {
namespace {

std::array<std::uint32_t, 10> quotas_of(const JobSet& set) {
  std::array<std::uint32_t, 10> q{};
  std::copy(std::begin(set.quota_percent), std::end(set.quota_percent), q.begin());
  return q;
}

}  // namespace

JobAdmission::JobAdmission(const FabricDescription& fabric, const JobSet& jobs,
                           const std::vector<std::vector<std::uint32_t>>& hosts,
                           const std::vector<bool>& active)
    : jobs_(jobs),
      resources_(fabric, quotas_of(jobs)),
      grants_(jobs.jobs.size()),
      refusals_(jobs.jobs.size()) {
  for (std::size_t j = 0; j < jobs.jobs.size(); ++j) {
    if (!active.empty() && !active[j]) continue;
    const JobDescription& job = jobs.jobs[j];
    if (hosts[j].empty()) {
      refusals_[j] = "placement did not resolve";
      continue;
    }
    auto grant = resources_.allocate({job.name, job.priority, hosts[j], job.requests.slots,
                                      job.requests.payload_bytes, job.requests.trees,
                                      job.requests.streaming});
    if (grant.ok())
      grants_[j] = std::move(*grant);
    else
      refusals_[j] = grant.status().to_string();
  }
}

std::string JobAdmission::trees(std::size_t job) const {
  if (!grants_[job]) return "none (" + refusals_[job] + ")";
  return fmt::format("{}", fmt::join(jobs::tree_lines(resources_.fabric(), *grants_[job]), "; "));
}

StepDecision JobAdmission::begin_step(std::size_t j, std::size_t step, Time now,
                                      const std::string& asked) {
  const JobDescription& job = jobs_.jobs[j];
  const WorkloadStep& s = job.workload[step];
  const std::string host(host_algorithm(s.collective));
  if (asked != "auto" && !algorithm_uses_switches(s.collective, asked))
    return {asked, fmt::format("{} as asked: the hosts only", asked)};
  if (!grants_[j]) return {host, "no trees: " + refusals_[j]};
  const manager::JobGrant& g = *grants_[j];
  if (jobs::reduces(s.collective) && !g.caps.supports(s.dtype, s.op))
    return {host, fmt::format("{} {} is outside the trees' caps ({})", to_string(s.dtype),
                              to_string(s.op), g.caps.describe())};
  if (s.bytes <= g.llt_max_bytes())
    return {asked, fmt::format("low-latency tree: {} B fit its {} slots x {} B", s.bytes, g.slots,
                               g.payload_bytes)};
  if (!job.requests.streaming)
    return {host, fmt::format("{} B is above the low-latency limit of {} B and the job asks for "
                              "no streaming",
                              s.bytes, g.llt_max_bytes())};
  const Status locked = resources_.lock_streaming(job.name);
  if (!locked.ok())
    return {host, fmt::format("{} B needs streaming: {}", s.bytes, locked.to_string())};
  locks_.push_back({job.name, step, now, kNever});
  return {asked,
          fmt::format("streaming tree: {} B above the low-latency limit of {} B, locks held",
                      s.bytes, g.llt_max_bytes()),
          true};
}

void JobAdmission::end_step(std::size_t j, std::size_t step, const StepDecision& decision,
                            Time now) {
  if (!decision.streaming) return;
  resources_.unlock_streaming(jobs_.jobs[j].name);
  for (LockInterval& l : locks_)
    if (l.job == jobs_.jobs[j].name && l.step == step && l.to == kNever) l.to = now;
}

}  // namespace inca::cli
