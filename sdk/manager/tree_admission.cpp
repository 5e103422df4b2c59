#include "manager/tree_admission.hpp"

#include <map>

#include <fmt/format.h>

#include "fabric/fabric_checks.hpp"
#include "manager/aggregation_manager.hpp"

namespace inca::manager {
namespace {

// Every priority may hold the whole switch until a job says otherwise.
std::array<std::uint32_t, 10> whole_switch() {
  std::array<std::uint32_t, 10> q{};
  q.fill(100);
  return q;
}

}  // namespace

TreeAdmission::TreeAdmission(const FabricDescription& fabric, const topology::Topology& topology)
    : topology_(topology),
      resources_(fabric, whole_switch()),
      link_of_port_(fabric.switches.size()) {
  // build_topology numbers a switch's ports by the order of its links.
  if (auto links = fabric_file::resolve_links(fabric, nullptr))
    for (std::uint32_t i = 0; i < links->size(); ++i)
      for (const fabric_file::ResolvedEnd& end : {(*links)[i].first, (*links)[i].second})
        if (!end.host) link_of_port_[end.index].push_back(i);
}

Status TreeAdmission::admit(TreePlan& plan, const JobIdentity& job) {
  const std::string who = job.tenant.empty() ? job.name : job.tenant + "/" + job.name;
  plan.admission_job = fmt::format("{} tree {}", who, plan.tree);
  AllocatedTree tree{plan.root, plan.switch_levels, {}};
  std::map<std::uint32_t, std::size_t> at;  // switch -> index in tree.switches
  for (const auto& [sw, install] : plan.installs) {
    at[sw] = tree.switches.size();
    tree.switches.push_back({sw, -1, {}, {}, {}});
  }
  for (const auto& [sw, install] : plan.installs) {
    TreeSwitch& s = tree.switches[at.at(sw)];
    const std::vector<std::uint32_t>& links = link_of_port_.at(sw);
    const auto& ports = topology_.node(sw).ports;
    for (std::uint16_t port : install.child_ports) {
      if (port < links.size()) s.links.push_back(links[port]);
      const std::uint32_t peer = ports[port].peer_node;
      if (at.count(peer)) s.child_switches.push_back(peer);
    }
    if (install.parent_port != wire::kNoPort) {
      s.parent = ports[install.parent_port].peer_node;
      if (install.parent_port < links.size()) s.links.push_back(links[install.parent_port]);
    }
  }
  JobResourceRequest req;
  req.job = plan.admission_job;
  req.priority = job.priority;
  for (const HostAttachment& m : plan.members) {
    req.hosts.push_back(m.host);
    tree.switches[at.at(m.leaf_node)].child_hosts.push_back(m.host);
  }
  req.slots = plan.slots;
  req.payload_bytes = job.payload_bytes != 0 ? job.payload_bytes : plan.slot_payload_bytes;
  req.trees = 1;
  req.streaming = job.streaming;
  resources_.set_quota_percent(job.priority, job.quota_percent);
  std::vector<AllocatedTree> trees;
  trees.push_back(std::move(tree));
  auto grant = resources_.allocate(req, std::move(trees));
  if (!grant.ok()) return grant.status();
  plan.streaming = job.streaming;
  plan.streaming_threshold = job.streaming_threshold;
  return {};
}

Status TreeAdmission::lock_streaming(const TreePlan& plan) {
  return resources_.lock_streaming(plan.admission_job);
}

void TreeAdmission::release(const TreePlan& plan) {
  (void)resources_.release(plan.admission_job);
}

}  // namespace inca::manager
