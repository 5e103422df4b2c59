#include "jobs/job_checks.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include <fmt/format.h>

#include "fabric/fabric_checks.hpp"
#include "fabric/yaml_reader.hpp"

namespace inca::jobs {
namespace {

Diagnostic finding(Severity severity, const SourceLocation& where, std::string message,
                   std::string hint = "") {
  return {severity, where, std::move(message), std::move(hint)};
}

// The switch each host reaches first: spread placement deals ranks over them.
std::vector<std::uint32_t> first_switch_of_hosts(const FabricDescription& f) {
  std::vector<std::uint32_t> leaf(f.hosts.size(), 0);
  if (auto links = fabric_file::resolve_links(f, nullptr)) {
    std::vector<bool> seen(f.hosts.size());
    for (const auto& [a, b] : *links) {
      if (a.host == b.host) continue;
      const auto& h = a.host ? a : b;
      if (!seen[h.index]) seen[h.index] = true, leaf[h.index] = (a.host ? b : a).index;
    }
  }
  return leaf;
}

std::vector<std::uint32_t> by_policy(const JobPlacement& p, std::vector<std::uint32_t> free,
                                     const std::vector<std::uint32_t>& leaf) {
  if (p.policy == PlacementPolicy::random) {
    std::mt19937_64 rng(p.seed);
    std::shuffle(free.begin(), free.end(), rng);
  } else if (p.policy == PlacementPolicy::spread) {
    // Round-robin over first switches, each switch's hosts in order.
    std::map<std::uint32_t, std::vector<std::uint32_t>> per_leaf;
    for (std::uint32_t h : free) per_leaf[leaf[h]].push_back(h);
    std::vector<std::uint32_t> dealt;
    for (std::size_t round = 0; dealt.size() < free.size(); ++round)
      for (auto& [sw, hosts] : per_leaf)
        if (round < hosts.size()) dealt.push_back(hosts[round]);
    free = std::move(dealt);
  }
  free.resize(std::min<std::size_t>(free.size(), p.ranks));
  return free;
}

}  // namespace

std::vector<std::vector<std::uint32_t>> place_jobs(const FabricDescription& f, const JobSet& set,
                                                   std::vector<Diagnostic>& out) {
  std::vector<std::vector<std::uint32_t>> placed(set.jobs.size());
  std::vector<std::vector<std::size_t>> jobs_on_host(f.hosts.size());
  std::vector<std::string> host_names;
  for (const HostDescription& h : f.hosts) host_names.push_back(h.name);
  const std::vector<std::uint32_t> leaf = first_switch_of_hosts(f);

  // Explicit placements first: policies fill the hosts they leave free.
  for (std::size_t j = 0; j < set.jobs.size(); ++j) {
    const JobDescription& job = set.jobs[j];
    if (job.placement.policy != PlacementPolicy::hosts) continue;
    std::vector<std::uint32_t> hosts;
    std::set<std::uint32_t> seen;
    bool ok = true;
    for (std::size_t i = 0; i < job.placement.hosts.size(); ++i) {
      const std::string& name = job.placement.hosts[i];
      const SourceLocation& where = job.placement.host_where[i];
      const auto index = f.find_host(name);
      if (!index) {
        const auto near = fabric_file::YamlReader::closest(name, host_names);
        out.push_back(finding(Severity::error, where,
                              fmt::format("job '{}' is placed on host '{}', which the fabric "
                                          "does not have",
                                          job.name, name),
                              near ? fmt::format("did you mean '{}'?", *near) : ""));
        ok = false;
        continue;
      }
      if (!seen.insert(*index).second) {
        out.push_back(finding(Severity::error, where,
                              fmt::format("job '{}' is placed on host '{}' twice", job.name, name),
                              "one rank per host: a NIC serves one member of a group"));
        ok = false;
        continue;
      }
      hosts.push_back(*index);
    }
    if (!ok) continue;
    for (std::uint32_t h : hosts) jobs_on_host[h].push_back(j);
    placed[j] = std::move(hosts);
  }
  for (std::size_t j = 0; j < set.jobs.size(); ++j) {
    const JobDescription& job = set.jobs[j];
    if (job.placement.policy == PlacementPolicy::hosts) continue;
    std::vector<std::uint32_t> free;
    for (std::uint32_t h = 0; h < f.hosts.size(); ++h)
      if (jobs_on_host[h].size() < set.jobs_per_nic) free.push_back(h);
    if (free.size() < job.placement.ranks) {
      out.push_back(
          finding(Severity::error, job.placement.where,
                  fmt::format("job '{}' wants {} ranks, but {} of the fabric's {} hosts have a NIC "
                              "free for it",
                              job.name, job.placement.ranks, free.size(), f.hosts.size()),
                  fmt::format("at most {} job(s) per NIC (jobs_per_nic); lower ranks or place "
                              "another job elsewhere",
                              set.jobs_per_nic)));
      continue;
    }
    placed[j] = by_policy(job.placement, std::move(free), leaf);
    for (std::uint32_t h : placed[j]) jobs_on_host[h].push_back(j);
  }
  // Explicit placements may crowd a NIC; name the host and its jobs.
  for (std::uint32_t h = 0; h < f.hosts.size(); ++h) {
    const auto& on = jobs_on_host[h];
    if (on.size() <= set.jobs_per_nic) continue;
    const JobDescription& last = set.jobs[on.back()];
    std::vector<std::string> names;
    for (std::size_t j : on) names.push_back("'" + set.jobs[j].name + "'");
    out.push_back(
        finding(Severity::error, last.placement.where,
                fmt::format("host '{}' carries {} jobs ({}); at most {} per NIC", f.hosts[h].name,
                            on.size(), fmt::join(names, ", "), set.jobs_per_nic),
                "SHARP runs one job per NIC by default: move a job, or raise "
                "jobs_per_nic where the NIC allows it"));
  }
  for (std::size_t j = 0; j < set.jobs.size(); ++j) {
    const JobDescription& job = set.jobs[j];
    const std::uint32_t ranks = job.placement.ranks;
    if (ranks < set.min_group_ranks)
      out.push_back(finding(Severity::error, job.placement.where,
                            fmt::format("job '{}' has {} rank(s); an in-network group needs at "
                                        "least {}",
                                        job.name, ranks, set.min_group_ranks),
                            "add ranks, or lower min_group_ranks if the fabric's software allows "
                            "smaller groups"));
  }
  return placed;
}

namespace {

std::string hint_for(StatusCode code) {
  switch (code) {
    case StatusCode::quota_exceeded:
      return "lower requests.slots or trees, or raise the priority's entry in 'quotas'";
    case StatusCode::no_resource:
      return "lower requests.slots, payload or trees, or move the job off that switch";
    case StatusCode::no_tree:
      return "ask for fewer trees, or place the job where more switches span it";
    default:
      return "";
  }
}

// Jobs sharing a switch may each grow to their quota: their quotas must fit.
void check_quota_sums(const FabricDescription& f, const JobSet& set,
                      const std::vector<JobSummary>& summaries, std::vector<Diagnostic>& out) {
  std::map<std::uint32_t, std::vector<std::size_t>> jobs_on_switch;
  for (std::size_t j = 0; j < summaries.size(); ++j) {
    std::set<std::uint32_t> switches;
    for (const AllocatedTree& t : summaries[j].grant.trees)
      for (const TreeSwitch& s : t.switches) switches.insert(s.switch_index);
    for (std::uint32_t s : switches) jobs_on_switch[s].push_back(j);
  }
  for (const auto& [sw, jobs] : jobs_on_switch) {
    std::uint32_t sum = 0;
    std::vector<std::string> parts;
    for (std::size_t j : jobs) {
      const JobDescription& job = set.jobs[j];
      sum += set.quota_percent[job.priority];
      parts.push_back(fmt::format("'{}' {}%", job.name, set.quota_percent[job.priority]));
    }
    if (sum <= 100) continue;
    out.push_back(finding(Severity::error, set.jobs[jobs.back()].where,
                          fmt::format("the quotas of the jobs on switch '{}' add up to {}% ({})",
                                      f.switches[sw].name, sum, fmt::join(parts, ", ")),
                          "each job may grow to its quota: lower 'quotas' or spread the jobs"));
  }
}

// Streaming jobs whose locks collide: lock one, try the other.
void check_lock_collisions(manager::SwitchResources& resources, const JobSet& set,
                           std::vector<JobSummary>& summaries, std::vector<Diagnostic>& out) {
  for (std::size_t j = 0; j < summaries.size(); ++j) {
    if (!summaries[j].granted || !summaries[j].grant.streaming) continue;
    for (std::size_t i = 0; i < j; ++i) {
      if (!summaries[i].granted || !summaries[i].grant.streaming) continue;
      if (!resources.lock_streaming(set.jobs[i].name).ok()) continue;
      const Status s = resources.lock_streaming(set.jobs[j].name);
      resources.unlock_streaming(set.jobs[i].name);
      resources.unlock_streaming(set.jobs[j].name);
      if (s.ok()) continue;
      out.push_back(finding(Severity::warning, set.jobs[j].requests.where,
                            fmt::format("streaming jobs '{}' and '{}' cannot hold their locks at "
                                        "once: {}",
                                        set.jobs[i].name, set.jobs[j].name, s.message()),
                            "one waits or falls back to the hosts above its low-latency limit; "
                            "place them on disjoint switches or turn streaming off for one"));
      summaries[j].streaming =
          fmt::format("contended with job '{}' (lock_failed, retryable)", set.jobs[i].name);
      if (summaries[i].streaming == "available")
        summaries[i].streaming = fmt::format("contended with job '{}'", set.jobs[j].name);
    }
  }
}

std::string fallback_of(const JobDescription& job, const JobSummary& s) {
  if (!s.granted) return "every collective runs on the hosts (no trees: " + s.refusal + ")";
  std::vector<std::string> parts;
  for (const WorkloadStep& step : job.workload) {
    if (reduces(step.collective) && !s.grant.caps.supports(step.dtype, step.op))
      parts.push_back(fmt::format("{} {} {}: host {} (outside the trees' caps)",
                                  to_string(step.collective), to_string(step.dtype),
                                  to_string(step.op), host_algorithm(step.collective)));
    else if (step.bytes > s.grant.llt_max_bytes() && s.streaming != "available")
      parts.push_back(
          fmt::format("{} of {} B: host {} (above the low-latency limit of {} B, "
                      "streaming {})",
                      to_string(step.collective), step.bytes, host_algorithm(step.collective),
                      s.grant.llt_max_bytes(), s.streaming));
  }
  return parts.empty() ? "none" : fmt::format("{}", fmt::join(parts, "; "));
}

}  // namespace

bool reduces(Collective collective) {
  return collective == Collective::allreduce || collective == Collective::reduce ||
         collective == Collective::reduce_scatter;
}

JobCheck check_jobs(const FabricDescription& f, const JobSet& set) {
  JobCheck check;
  const auto placed = place_jobs(f, set, check.diagnostics);
  std::array<std::uint32_t, 10> quotas{};
  std::copy(std::begin(set.quota_percent), std::end(set.quota_percent), quotas.begin());
  manager::SwitchResources resources(f, quotas);
  for (std::size_t j = 0; j < set.jobs.size(); ++j) {
    const JobDescription& job = set.jobs[j];
    JobSummary s;
    s.job = job.name;
    s.hosts = placed[j];
    if (placed[j].empty()) {
      s.refusal = "placement did not resolve";
    } else {
      manager::JobResourceRequest req{job.name,
                                      job.priority,
                                      placed[j],
                                      job.requests.slots,
                                      job.requests.payload_bytes,
                                      job.requests.trees,
                                      job.requests.streaming};
      auto grant = resources.allocate(req);
      if (grant.ok()) {
        s.granted = true;
        s.grant = *grant;
      } else {
        // The trees it would have had still count toward the quota sums.
        if (auto trees = resources.plan_trees(req); trees.ok()) s.grant.trees = *trees;
        s.refusal = grant.status().to_string();
        check.diagnostics.push_back(finding(Severity::error, job.requests.where,
                                            grant.status().to_string(),
                                            hint_for(grant.status().code())));
      }
    }
    s.streaming = !job.requests.streaming ? "off (not requested)"
                  : s.granted             ? "available"
                                          : "unavailable (no trees)";
    check.summaries.push_back(std::move(s));
  }
  check_quota_sums(f, set, check.summaries, check.diagnostics);
  check_lock_collisions(resources, set, check.summaries, check.diagnostics);
  check.holdings = resources.holdings();
  for (std::size_t j = 0; j < set.jobs.size(); ++j) {
    const JobDescription& job = set.jobs[j];
    JobSummary& s = check.summaries[j];
    if (s.granted)
      for (const WorkloadStep& step : job.workload) {
        if (reduces(step.collective) && !s.grant.caps.supports(step.dtype, step.op))
          check.diagnostics.push_back(finding(
              Severity::warning, step.where,
              fmt::format("job '{}': {} of {} {} is outside its trees' caps ({})", job.name,
                          to_string(step.collective), to_string(step.dtype), to_string(step.op),
                          s.grant.caps.describe()),
              fmt::format("it runs on the hosts ({}); quantize to a dtype the switches take, or "
                          "accept the fallback",
                          host_algorithm(step.collective))));
      }
    s.fallback = fallback_of(job, s);
  }
  return check;
}

}  // namespace inca::jobs
