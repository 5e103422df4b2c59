#include "topology/topology.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <boost/container/small_vector.hpp>

namespace inca::topology {
namespace {

// Candidate egress ports; a node has few, so they stay inline.
using PortList = boost::container::small_vector<std::uint16_t, 8>;

// Narrows `candidates` (ports of `node`) to the fastest among them.
void keep_fastest(const Node& node, PortList& candidates) {
  double fastest = 0;
  for (std::uint16_t p : candidates) fastest = std::max(fastest, node.ports[p].link.gbps);
  candidates.erase(
      std::remove_if(candidates.begin(), candidates.end(),
                     [&](std::uint16_t p) { return node.ports[p].link.gbps < fastest; }),
      candidates.end());
}

constexpr std::uint32_t kUnreached = std::numeric_limits<std::uint32_t>::max();

}  // namespace

std::uint32_t Topology::add_host(std::string name) {
  Node n;
  n.kind = NodeKind::host;
  n.name = std::move(name);
  n.host_index = static_cast<std::uint32_t>(hosts_.size());
  nodes_.push_back(std::move(n));
  hosts_.push_back(static_cast<std::uint32_t>(nodes_.size() - 1));
  return hosts_.back();
}

std::uint32_t Topology::add_switch(std::string name, SwitchSpec spec, std::uint32_t tier) {
  Node n;
  n.kind = NodeKind::switch_node;
  n.name = std::move(name);
  n.switch_spec = spec;
  n.tier = tier;
  nodes_.push_back(std::move(n));
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void Topology::connect(std::uint32_t a, std::uint32_t b, LinkSpec link) {
  connect(a, b, link, link);
}

void Topology::connect(std::uint32_t a, std::uint32_t b, LinkSpec ab, LinkSpec ba) {
  const auto pa = static_cast<std::uint16_t>(nodes_[a].ports.size());
  const auto pb = static_cast<std::uint16_t>(nodes_[b].ports.size());
  nodes_[a].ports.push_back({b, pb, ab});
  nodes_[b].ports.push_back({a, pa, ba});
}

std::uint32_t Topology::add_host(std::string name, std::uint16_t ports, HostTiming timing) {
  const std::uint32_t id = add_host(std::move(name));
  nodes_[id].ports.assign(ports, Port{kUnconnected, 0, {}});
  nodes_[id].host_timing = timing;
  return id;
}

void Topology::connect_port(std::uint32_t host, std::uint16_t port, std::uint32_t sw, LinkSpec up,
                            LinkSpec down) {
  const auto ps = static_cast<std::uint16_t>(nodes_[sw].ports.size());
  nodes_[host].ports[port] = {sw, ps, up};
  nodes_[sw].ports.push_back({host, port, down});
}

std::vector<std::uint32_t> Topology::switch_nodes() const {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].kind == NodeKind::switch_node) out.push_back(i);
  return out;
}

bool Topology::set_switch_caps(const std::string& name, SwitchCaps caps) {
  for (Node& n : nodes_)
    if (n.kind == NodeKind::switch_node && n.name == name) {
      n.switch_spec.caps = caps;
      return true;
    }
  return false;
}

void Topology::finalize() {
  const std::size_t n = nodes_.size();
  const std::vector<std::uint32_t> switches = switch_nodes();
  switch_rank_.assign(n, kUnreached);
  for (std::uint32_t i = 0; i < switches.size(); ++i) switch_rank_[switches[i]] = i;

  // Hop distances from every switch (BFS); hosts have one port so need none.
  distances_.assign(switches.size() * n, kUnreached);
  for (std::uint32_t s = 0; s < switches.size(); ++s) {
    std::uint32_t* dist = &distances_[std::size_t{s} * n];
    std::deque<std::uint32_t> queue{switches[s]};
    dist[switches[s]] = 0;
    while (!queue.empty()) {
      const std::uint32_t u = queue.front();
      queue.pop_front();
      for (const Port& p : nodes_[u].ports) {
        if (p.peer_node == kUnconnected || dist[p.peer_node] != kUnreached) continue;
        dist[p.peer_node] = dist[u] + 1;
        // Hosts are leaves of the graph: never route through one.
        if (nodes_[p.peer_node].kind == NodeKind::switch_node) queue.push_back(p.peer_node);
      }
    }
  }

  // Route: among the ports whose peer is one hop closer to the destination,
  // the fastest ones; among those pick by destination index, so paths are
  // deterministic and spread over equal-cost uplinks (destination-hashed ECMP).
  // Going down, a switch sees only the destinations that the tier below
  // spread onto it (those equal to it modulo its tier's size), so it picks
  // among parallel links by the destination divided by that size: the same
  // modulus at both ends would send them all over one of the links.
  std::map<std::uint32_t, std::uint32_t> tier_size;
  for (std::uint32_t sw : switches) ++tier_size[nodes_[sw].tier];
  routes_.assign(switches.size() * hosts_.size(), 0);
  PortList candidates;
  for (std::uint32_t s = 0; s < switches.size(); ++s) {
    const Node& sw = nodes_[switches[s]];
    for (std::uint32_t h = 0; h < hosts_.size(); ++h) {
      const std::uint32_t target = hosts_[h];
      const std::uint32_t here = distances_[std::size_t{s} * n + target];
      candidates.clear();
      for (std::uint16_t port = 0; port < sw.ports.size(); ++port) {
        const std::uint32_t d = peer_distance(sw.ports[port].peer_node, target);
        if (here != kUnreached && d != kUnreached && d + 1 == here) candidates.push_back(port);
      }
      keep_fastest(sw, candidates);
      const bool down =
          !candidates.empty() && nodes_[sw.ports[candidates[0]].peer_node].tier < sw.tier;
      const std::uint32_t spread = down ? tier_size[sw.tier] : 1;
      routes_[std::size_t{s} * hosts_.size() + h] =
          candidates.empty() ? 0 : candidates[(h / spread) % candidates.size()];
    }
  }
}

std::uint16_t Topology::route(std::uint32_t node, std::uint32_t dst_host) const {
  const Node& n = nodes_[node];
  if (n.kind == NodeKind::switch_node)
    return routes_[std::size_t{switch_rank_[node]} * hosts_.size() + dst_host];
  if (n.ports.size() == 1) return 0;
  // A host with several ports: the nearest to the destination, then the
  // fastest (keep_fastest, the switches' rule), then by destination (as a
  // switch spreads over equal uplinks). Hosts route every packet they send:
  // the candidates live on the stack.
  const std::uint32_t target = hosts_[dst_host];
  std::uint32_t best = kUnreached;
  PortList candidates;
  for (std::uint16_t p = 0; p < n.ports.size(); ++p) {
    const std::uint32_t peer = n.ports[p].peer_node;
    if (peer == kUnconnected) continue;
    const std::uint32_t d = peer_distance(peer, target);
    if (d < best) {
      best = d;
      candidates.clear();
    }
    if (d == best) candidates.push_back(p);
  }
  keep_fastest(n, candidates);
  return candidates.empty() ? 0 : candidates[dst_host % candidates.size()];
}

std::uint32_t Topology::peer_distance(std::uint32_t peer, std::uint32_t target) const {
  if (peer == target) return 0;
  // Unconnected, or a host: hosts forward nothing.
  if (peer >= nodes_.size() || nodes_[peer].kind == NodeKind::host) return kUnreached;
  return distance_from_switch(peer, target);
}

std::uint32_t Topology::distance_from_switch(std::uint32_t sw, std::uint32_t node) const {
  return distances_[std::size_t{switch_rank_[sw]} * nodes_.size() + node];
}

std::vector<std::uint32_t> Topology::path(std::uint32_t src_host, std::uint32_t dst_host) const {
  std::vector<std::uint32_t> out{hosts_[src_host]};
  for_each_hop(src_host, dst_host, [&](std::uint32_t node, std::uint16_t port) {
    out.push_back(nodes_[node].ports[port].peer_node);
  });
  return out;
}

Result<Topology> Topology::star(std::uint32_t hosts, LinkSpec link, SwitchSpec sw) {
  if (hosts == 0) return make_error(StatusCode::invalid_argument, "star topology needs >= 1 host");
  if (hosts > 65535)
    return make_error(StatusCode::invalid_argument,
                      "star topology: at most 65535 hosts per switch");
  Topology t;
  const std::uint32_t s = t.add_switch("switch0", sw, 1);
  for (std::uint32_t h = 0; h < hosts; ++h)
    t.connect(t.add_host(fmt::format("host{}", h)), s, link);
  t.finalize();
  t.description_ = fmt::format("star: {} hosts on one switch", hosts);
  return t;
}

Result<Topology> Topology::leaf_spine(std::uint32_t hosts, std::uint32_t hosts_per_leaf,
                                      std::uint32_t spines, LinkSpec host_link,
                                      LinkSpec fabric_link, SwitchSpec sw) {
  if (hosts == 0 || hosts_per_leaf == 0 || spines == 0)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("leaf-spine needs hosts, hosts per leaf and spines >= 1 (got "
                                  "{}, {}, {})",
                                  hosts, hosts_per_leaf, spines));
  Topology t;
  const std::uint32_t leaves = (hosts + hosts_per_leaf - 1) / hosts_per_leaf;
  std::vector<std::uint32_t> leaf_ids;
  for (std::uint32_t l = 0; l < leaves; ++l)
    leaf_ids.push_back(t.add_switch(fmt::format("leaf{}", l), sw, 1));
  std::vector<std::uint32_t> spine_ids;
  for (std::uint32_t s = 0; s < spines; ++s)
    spine_ids.push_back(t.add_switch(fmt::format("spine{}", s), sw, 2));
  for (std::uint32_t h = 0; h < hosts; ++h)
    t.connect(t.add_host(fmt::format("host{}", h)), leaf_ids[h / hosts_per_leaf], host_link);
  for (std::uint32_t l : leaf_ids)
    for (std::uint32_t s : spine_ids) t.connect(l, s, fabric_link);
  t.finalize();
  t.description_ = fmt::format("leaf-spine: {} hosts, {} per leaf, {} leaves, {} spines", hosts,
                               hosts_per_leaf, leaves, spines);
  return t;
}

}  // namespace inca::topology
