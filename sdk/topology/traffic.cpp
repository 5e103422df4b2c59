#include "topology/traffic.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace inca::topology {

PatternLoad pattern_load(const Topology& topology, const Flows& flows) {
  PatternLoad load;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> per_link;
  for (const auto& [src, dst] : flows) {
    const std::vector<std::uint32_t> path = topology.path(src, dst);
    load.max_links = std::max(load.max_links, static_cast<std::uint32_t>(path.size() - 1));
    for (std::size_t i = 0; i + 1 < path.size(); ++i)
      load.sharing = std::max(load.sharing, ++per_link[{path[i], path[i + 1]}]);
  }
  return load;
}

PatternPath pattern_path(const Topology& topology, const Flows& flows) {
  PatternPath out;
  if (flows.empty()) return out;
  // Each flow's hops as (node, egress port), and how many flows use each.
  std::vector<std::vector<std::pair<std::uint32_t, std::uint16_t>>> hops(flows.size());
  std::unordered_map<std::uint64_t, std::uint32_t> load;
  for (std::size_t i = 0; i < flows.size(); ++i) {
    const std::vector<std::uint32_t> path = topology.path(flows[i].first, flows[i].second);
    for (std::size_t k = 0; k + 1 < path.size(); ++k) {
      const std::uint16_t port = topology.route(path[k], flows[i].second);
      hops[i].emplace_back(path[k], port);
      const std::uint32_t n = ++load[std::uint64_t{path[k]} << 16 | port];
      out.load.sharing = std::max(out.load.sharing, n);
    }
    out.load.max_links = std::max(out.load.max_links, static_cast<std::uint32_t>(hops[i].size()));
  }
  ModelPath& worst = out.worst;
  ModelPath& mean = out.mean;
  worst = mean = ModelPath{0, 0, 0, 0};
  for (const auto& route : hops) {
    double total_ps_per_byte = 0, bottleneck = 0, own = 0, fixed = 0;
    for (const auto& [node, port] : route) {
      const Node& n = topology.node(node);
      const LinkSpec& link = n.ports[port].link;
      const double ps = 8000.0 / link.gbps;
      const double shared = ps * load[std::uint64_t{node} << 16 | port];
      if (shared > bottleneck) {
        bottleneck = shared;
        own = ps;
      }
      total_ps_per_byte += ps;
      fixed += static_cast<double>(link.latency);
      if (n.kind == NodeKind::switch_node)
        fixed += static_cast<double>(n.switch_spec.forwarding_latency);
    }
    const double links = static_cast<double>(route.size());
    const double store_forward = total_ps_per_byte - own;
    out.each.push_back(ModelPath{links, bottleneck, store_forward, fixed});
    worst.links = std::max(worst.links, links);
    worst.flow_ps_per_byte = std::max(worst.flow_ps_per_byte, bottleneck);
    worst.store_forward_ps_per_byte = std::max(worst.store_forward_ps_per_byte, store_forward);
    worst.fixed_ps = std::max(worst.fixed_ps, fixed);
    mean.links += links;
    mean.flow_ps_per_byte = std::max(mean.flow_ps_per_byte, bottleneck);
    mean.store_forward_ps_per_byte += store_forward;
    mean.fixed_ps += fixed;
  }
  const double n = static_cast<double>(flows.size());
  mean.links /= n;
  mean.store_forward_ps_per_byte /= n;
  mean.fixed_ps /= n;
  return out;
}

}  // namespace inca::topology
