#include "algorithms/tree_model.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

namespace inca::algorithms {

std::vector<ModelTreeLevel> tree_levels(const topology::Topology& t,
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
  std::vector<ModelTreeLevel> levels;
  auto worse = [](auto& into, auto value) { into = std::max(into, value); };
  for (const auto& [sw, install] : installs) {
    const std::uint32_t l = level_of(sw);
    if (levels.size() <= l) levels.resize(l + 1, ModelTreeLevel{0, 0, 0, 0, 0, 0, 0, 0, 0});
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

}  // namespace inca::algorithms
