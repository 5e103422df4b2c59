// What `inca validate` finds about a job file on a fabric: placements that do
// not resolve (unknown hosts, a host twice, too few free NICs, too many jobs
// on a NIC, groups too small), and, by allocating every job in file order on
// one SwitchResources, the resources that do not fit (quota sums above 100%
// on a switch, slots, tree limits, payload per slot, trees that cannot be
// rooted), streaming jobs whose locks collide, and workloads outside their
// trees' caps. Every finding is located in the job file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "inca/job_description.hpp"
#include "manager/switch_resources.hpp"

namespace inca::jobs {

using manager::AllocatedTree;
using manager::JobGrant;
using manager::TreeSwitch;

/// What one job would get, for the per-job summary.
struct JobSummary {
  std::string job;
  std::vector<std::uint32_t> hosts;  ///< resolved placement (empty when it did not resolve)
  bool granted = false;
  std::string refusal;  ///< why not, when not granted ("code: message")
  JobGrant grant;
  std::string streaming;  ///< "off", "available", or why not / with whom it collides
  std::string fallback;   ///< what the job's collectives run instead of the trees, and why
};

struct JobCheck {
  std::vector<Diagnostic> diagnostics;
  std::vector<JobSummary> summaries;       ///< one per job, in file order
  std::vector<manager::Holding> holdings;  ///< what every granted job holds, per switch
};

/// Host indexes for each job's placement (packed, spread and random take
/// hosts whose NICs carry fewer than jobs_per_nic jobs); problems go to
/// `out` and leave that job's list empty.
std::vector<std::vector<std::uint32_t>> place_jobs(const FabricDescription& fabric,
                                                   const JobSet& jobs,
                                                   std::vector<Diagnostic>& out);

/// Every finding about `jobs` on `fabric`, and what each job would get.
JobCheck check_jobs(const FabricDescription& fabric, const JobSet& jobs);

/// True for the collectives that reduce (and so need the trees' caps).
bool reduces(Collective collective);

}  // namespace inca::jobs
