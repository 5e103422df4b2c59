// Admission of the AggregationManager's trees on a described fabric: each
// tree the manager builds over the topology is booked, as one job, in a
// SwitchResources over the description the topology was built from (its
// switch node ids are the description's switch indexes, fabric_topology.hpp),
// so that quotas, tree limits, payload per slot and streaming locks apply
// to communicators as they do to the jobs of `inca validate`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "inca/fabric_description.hpp"
#include "inca/job_identity.hpp"
#include "inca/status.hpp"
#include "manager/switch_resources.hpp"
#include "topology/topology.hpp"

namespace inca::manager {

struct TreePlan;

class TreeAdmission {
 public:
  /// `fabric` and `topology` (built from it) must outlive this.
  TreeAdmission(const FabricDescription& fabric, const topology::Topology& topology);

  /// Books `plan` (slots reserved already) for `job` under the name
  /// plan.admission_job, which it sets. Errors as SwitchResources::allocate:
  /// no_resource, quota_exceeded, invalid_argument.
  Status admit(TreePlan& plan, const JobIdentity& job);
  /// Takes the exclusive streaming lock of every switch (or port) of the
  /// plan's tree: lock_failed (retryable) names the switch and the holder;
  /// lock_denied when the tree was booked without streaming.
  Status lock_streaming(const TreePlan& plan);
  /// Frees the plan's booking and locks.
  void release(const TreePlan& plan);
  const SwitchResources& resources() const { return resources_; }

 private:
  const topology::Topology& topology_;
  SwitchResources resources_;
  std::vector<std::vector<std::uint32_t>> link_of_port_;  // switch index -> link index by port
};

}  // namespace inca::manager
