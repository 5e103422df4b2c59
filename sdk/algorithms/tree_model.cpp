#include "algorithms/tree_model.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>

#include "algorithms/two_tier_allreduce.hpp"

namespace inca::algorithms {

namespace {

// Each switch's level: 0 when only hosts hang below it, else one more than
// its highest child switch's.
std::map<std::uint32_t, std::uint32_t> switch_levels(const topology::Topology& t,
                                                     const manager::TreePlan& tree) {
  // Children before parents: a switch's level follows from its child switches'.
  std::map<std::uint32_t, const wire::TreeInstall*> installs;
  for (const auto& [node, install] : tree.installs) installs[node] = &install;
  std::map<std::uint32_t, std::uint32_t> level;
  std::function<std::uint32_t(std::uint32_t)> level_of = [&](std::uint32_t sw) -> std::uint32_t {
    if (auto it = level.find(sw); it != level.end()) return it->second;
    std::uint32_t l = 0;
    for (std::uint16_t p : installs.at(sw)->child_ports) {
      const std::uint32_t child = t.node(sw).ports[p].peer_node;
      if (t.node(child).kind == topology::NodeKind::switch_node)
        l = std::max(l, level_of(child) + 1);
    }
    return level[sw] = l;
  };
  for (const auto& [sw, install] : installs) level_of(sw);
  return level;
}

}  // namespace

std::vector<ModelTreeLevel> tree_levels(const topology::Topology& t,
                                        const manager::TreePlan& tree) {
  const std::map<std::uint32_t, std::uint32_t> level = switch_levels(t, tree);
  std::vector<ModelTreeLevel> levels;
  auto worse = [](auto& into, auto value) { into = std::max(into, value); };
  for (const auto& [sw, install_entry] : tree.installs) {
    const wire::TreeInstall* install = &install_entry;
    const std::uint32_t l = level.at(sw);
    if (levels.size() <= l) levels.resize(l + 1, ModelTreeLevel{0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    ModelTreeLevel& m = levels[l];
    const topology::Node& node = t.node(sw);
    const topology::SwitchSpec& spec = node.switch_spec;
    worse(m.children, static_cast<std::uint32_t>(install->child_ports.size()));
    worse(m.forwarding, spec.forwarding_latency);
    worse(m.aggregation_latency, spec.aggregation_latency);
    if (spec.aggregation_gbps > 0) worse(m.alu_ps_per_byte, 8000.0 / spec.aggregation_gbps);
    if (spec.aggregation_pps > 0)
      worse(m.alu_ps_per_packet, static_cast<Time>(std::llround(1e12 / spec.aggregation_pps)));
    for (std::uint16_t p : install->child_ports) {
      const topology::Port& down = node.ports[p];
      const topology::Port& up = t.node(down.peer_node).ports[down.peer_port];
      worse(m.down_ps_per_byte, 8000.0 / down.link.gbps);
      worse(m.up_ps_per_byte, 8000.0 / up.link.gbps);
      worse(m.down_latency, down.link.latency);
      worse(m.up_latency, up.link.latency);
    }
  }
  return levels;
}

ModelHost host_model(const topology::Topology& t, std::uint32_t ranks) {
  ModelHost h;
  for (std::uint32_t r = 0; r < ranks && r < t.host_count(); ++r) {
    const HostTiming& timing = t.node(t.host_node(r)).host_timing;
    h.send_overhead = std::max(h.send_overhead, timing.send_overhead);
    h.recv_overhead = std::max(h.recv_overhead, timing.recv_overhead);
    h.gap = std::max(h.gap, timing.gap);
    if (timing.reduce_gbps > 0 && (h.reduce_gbps == 0 || timing.reduce_gbps < h.reduce_gbps))
      h.reduce_gbps = timing.reduce_gbps;
  }
  return h;
}

namespace {

// Shard 0's tree, and how many of the m shard trees share its busiest link
// at each level: trees that reach one spine all climb the same one of a
// leaf's parallel cables to it (the lowest port toward the root).
void add_shard_trees(const topology::Topology& t, std::uint32_t ranks,
                     manager::AggregationManager& scratch, manager::TreeRequest request,
                     ModelTwoTier& m) {
  request.placement = manager::TreePlacement::scale_out;
  request.slots = m.shard_window;
  std::map<std::pair<std::uint32_t, std::uint16_t>, std::uint32_t> trees_on;  // (switch, port)
  std::optional<manager::TreePlan> first;
  for (std::uint32_t shard = 0; shard < m.domain_ranks; ++shard) {
    request.hosts.clear();
    std::vector<std::uint32_t> seen(m.domains, 0);
    for (std::uint32_t r = 0; r < ranks; ++r)
      if (seen[m.rank_domain[r]]++ == shard) request.hosts.push_back(r);
    auto plan = scratch.allocate(request);
    if (!plan.ok()) return;  // the algorithm's trees would not fit either
    for (const auto& [sw, install] : plan->installs)
      for (std::uint16_t p : install.child_ports) ++trees_on[{sw, p}];
    if (!first) first = std::move(*plan);
  }
  m.shard_tree = tree_levels(t, *first);
  m.shard_payload = first->slot_payload_bytes;
  const std::map<std::uint32_t, std::uint32_t> level = switch_levels(t, *first);
  for (const auto& [sw, install] : first->installs)
    for (std::uint16_t p : install.child_ports) {
      ModelTreeLevel& into = m.shard_tree[level.at(sw)];
      into.sharing = std::max(into.sharing, trees_on[{sw, p}]);
    }
}

}  // namespace

ModelTwoTier two_tier_model(const topology::Topology& t, std::uint32_t ranks, std::uint32_t window,
                            std::uint32_t max_payload_bytes) {
  ModelTwoTier m;
  std::map<std::uint32_t, std::uint32_t> domain_of_switch;  // switch node -> domain
  for (std::uint32_t r = 0; r < ranks; ++r) {
    std::uint32_t domain_switch = topology::kUnconnected;
    for (const topology::Port& port : t.node(t.host_node(r)).ports)
      if (port.peer_node != topology::kUnconnected &&
          manager::is_scale_up_switch(t, port.peer_node))
        domain_switch = port.peer_node;
    if (domain_switch == topology::kUnconnected) return {};
    auto [it, added] = domain_of_switch.try_emplace(
        domain_switch, static_cast<std::uint32_t>(domain_of_switch.size()));
    m.rank_domain.push_back(it->second);
  }
  m.domains = static_cast<std::uint32_t>(domain_of_switch.size());
  std::vector<std::uint32_t> size(m.domains, 0);
  for (std::uint32_t d : m.rank_domain) ++size[d];
  m.domain_ranks =
      std::all_of(size.begin(), size.end(), [&](auto n) { return n == size[0]; }) ? size[0] : 0;
  if (m.domain_ranks == 0) return m;
  m.domain_window = window;
  m.shard_window = two_tier_shard_window(window, m.domain_ranks);
  // The trees as the algorithm's splits ask for them: domain 0's members on
  // their domain switch, and the shards (rank i of every domain) off it.
  manager::AggregationManager scratch(t);
  manager::TreeRequest request;
  request.max_payload_bytes = max_payload_bytes;
  request.placement = manager::TreePlacement::scale_up;
  request.slots = window;
  for (std::uint32_t r = 0; r < ranks; ++r)
    if (m.rank_domain[r] == 0) request.hosts.push_back(r);
  if (auto plan = scratch.allocate(request); plan.ok() && m.domain_ranks > 1) {
    m.domain_tree = tree_levels(t, *plan);
    m.domain_payload = plan->slot_payload_bytes;
  }
  if (m.domains > 1) add_shard_trees(t, ranks, scratch, request, m);
  return m;
}

}  // namespace inca::algorithms
