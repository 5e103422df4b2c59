#include "topology/traffic.hpp"

#include <algorithm>
#include <map>

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
  // Each flow's hops as (node, egress port), and how many flows use each
  // port: a flat count (the cost model measures O(p log p) flows at once).
  const std::vector<Node>& nodes = topology.nodes();
  std::vector<std::uint32_t> first_port(nodes.size() + 1, 0);
  for (std::size_t v = 0; v < nodes.size(); ++v)
    first_port[v + 1] = first_port[v] + static_cast<std::uint32_t>(nodes[v].ports.size());
  std::vector<std::uint32_t> load(first_port.back(), 0);
  const auto flows_on = [&](std::uint32_t node, std::uint16_t port) -> std::uint32_t& {
    return load[first_port[node] + port];
  };
  std::vector<std::vector<std::pair<std::uint32_t, std::uint16_t>>> hops(flows.size());
  for (std::size_t i = 0; i < flows.size(); ++i) {
    topology.for_each_hop(flows[i].first, flows[i].second,
                          [&](std::uint32_t node, std::uint16_t port) {
                            hops[i].emplace_back(node, port);
                            out.load.sharing = std::max(out.load.sharing, ++flows_on(node, port));
                          });
    out.load.max_links = std::max(out.load.max_links, static_cast<std::uint32_t>(hops[i].size()));
  }
  ModelPath& worst = out.worst;
  ModelPath& mean = out.mean;
  worst = mean = ModelPath{0, 0, 0, 0};
  for (const auto& route : hops) {
    double bottleneck = 0, fixed = 0;
    std::size_t at = 0;  // the bottleneck: the first link with the largest share
    std::vector<double> ps(route.size());
    std::vector<ModelQueue::Hop> hops;
    for (std::size_t k = 0; k < route.size(); ++k) {
      const auto [node, port] = route[k];
      const Node& n = topology.node(node);
      const LinkSpec& link = n.ports[port].link;
      ps[k] = 8000.0 / link.gbps;
      const double shared = ps[k] * flows_on(node, port);
      if (shared > bottleneck) {
        bottleneck = shared;
        at = k;
      }
      double latency = static_cast<double>(link.latency);
      if (n.kind == NodeKind::switch_node)
        latency += static_cast<double>(n.switch_spec.forwarding_latency);
      fixed += latency;
      hops.push_back({1 + (std::uint64_t{node} << 16 | port), ps[k], latency});
    }
    const double links = static_cast<double>(route.size());
    ModelQueue queue;
    queue.link = 1 + (std::uint64_t{route[at].first} << 16 | route[at].second);
    queue.ps_per_byte = ps[at];
    for (std::size_t k = 0; k < at; ++k) {
      queue.feed_ps_per_byte = std::max(queue.feed_ps_per_byte, ps[k]);
      queue.upstream_ps_per_byte += ps[k];
    }
    for (std::size_t k = at + 1; k + 1 < route.size(); ++k) queue.between_ps_per_byte += ps[k];
    if (at + 1 < route.size()) queue.last_ps_per_byte = ps.back();
    for (std::size_t k = 0; k < at; ++k) queue.upstream_fixed_ps += hops[k].latency_ps;
    queue.hops.assign(hops.begin() + static_cast<std::ptrdiff_t>(at), hops.end());
    const double store_forward =
        queue.upstream_ps_per_byte + queue.between_ps_per_byte + queue.last_ps_per_byte;
    out.each.push_back(ModelPath{links, bottleneck, store_forward, fixed});
    out.queues.push_back(queue);
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
