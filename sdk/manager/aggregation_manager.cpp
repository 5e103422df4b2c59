#include "manager/aggregation_manager.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "manager/tree_admission.hpp"
#include "wire/packet.hpp"

namespace inca::manager {

using topology::NodeKind;

namespace {
constexpr std::uint32_t kUnreached = std::numeric_limits<std::uint32_t>::max();
}

bool is_scale_up_switch(const topology::Topology& topology, std::uint32_t sw) {
  bool linked = false;
  for (const topology::Port& port : topology.node(sw).ports) {
    if (port.peer_node == topology::kUnconnected) continue;
    const topology::Node& peer = topology.node(port.peer_node);
    if (peer.kind != NodeKind::host) return false;
    // A host whose only link is this one has no other way out: a star's
    // switch, not a scale-up domain's.
    bool other_way = false;
    for (std::uint16_t p = 0; p < peer.ports.size() && !other_way; ++p)
      other_way = p != port.peer_port && peer.ports[p].peer_node != topology::kUnconnected;
    if (!other_way) return false;
    linked = true;
  }
  return linked;
}

// Hop distances from switch `root` over the part of the fabric a request may
// use: the topology's own table, or a breadth-first search that skips avoided
// switches and links (and, like routing, never passes through a host).
class AggregationManager::Reach {
 public:
  /// `shared`: distances kept from earlier requests of the same placement
  /// that avoided nothing, or null.
  Reach(const topology::Topology& topology, const TreeRequest& req, Distances* shared)
      : topology_(topology), from_(shared != nullptr ? *shared : own_) {
    dead_.insert(req.avoid_switches.begin(), req.avoid_switches.end());
    // Switches outside the placement are as unusable as dead ones.
    if (req.placement != TreePlacement::any)
      for (std::uint32_t sw : topology.switch_nodes())
        if (is_scale_up_switch(topology, sw) != (req.placement == TreePlacement::scale_up))
          dead_.insert(sw);
    for (const auto& [node, port] : req.avoid_links) {
      if (node >= topology.nodes().size() || port >= topology.node(node).ports.size()) continue;
      const auto& p = topology.node(node).ports[port];
      down_.insert({node, port});
      down_.insert({p.peer_node, p.peer_port});
    }
  }
  // A tree uses live switches that aggregate.
  bool usable_switch(std::uint32_t node) const {
    return !dead_.count(node) && topology_.node(node).switch_spec.aggregates;
  }
  bool usable_link(std::uint32_t node, std::uint16_t port) const {
    return !down_.count({node, port});
  }
  std::uint32_t distance(std::uint32_t root, std::uint32_t node) {
    if (dead_.empty() && down_.empty() && every_switch_aggregates())
      return topology_.distance_from_switch(root, node);
    auto& d = from_[root];
    if (d.empty()) d = search(root);
    return d[node];
  }

 private:
  std::vector<std::uint32_t> search(std::uint32_t root) const {
    std::vector<std::uint32_t> d(topology_.nodes().size(), kUnreached);
    if (!usable_switch(root)) return d;
    std::deque<std::uint32_t> queue{root};
    d[root] = 0;
    while (!queue.empty()) {
      const std::uint32_t u = queue.front();
      queue.pop_front();
      const auto& ports = topology_.node(u).ports;
      for (std::uint16_t p = 0; p < ports.size(); ++p) {
        const std::uint32_t v = ports[p].peer_node;
        if (v == topology::kUnconnected || d[v] != kUnreached || down_.count({u, p})) continue;
        if (topology_.node(v).kind == NodeKind::switch_node && !usable_switch(v)) continue;
        d[v] = d[u] + 1;
        if (topology_.node(v).kind == NodeKind::switch_node) queue.push_back(v);
      }
    }
    return d;
  }

  bool every_switch_aggregates() {
    if (!all_aggregate_) {
      all_aggregate_ = true;
      for (std::uint32_t sw : topology_.switch_nodes())
        *all_aggregate_ = *all_aggregate_ && topology_.node(sw).switch_spec.aggregates;
    }
    return *all_aggregate_;
  }

  const topology::Topology& topology_;
  std::optional<bool> all_aggregate_;
  std::set<std::uint32_t> dead_;
  std::set<std::pair<std::uint32_t, std::uint16_t>> down_;
  Distances own_;
  Distances& from_;
};

AggregationManager::AggregationManager(const topology::Topology& topology) : topology_(topology) {
  for (std::uint32_t sw : topology_.switch_nodes())
    pools_.emplace(sw, SlotPool(topology_.node(sw).switch_spec.slots));
}

std::uint32_t AggregationManager::free_slots(std::uint32_t switch_node) const {
  auto it = pools_.find(switch_node);
  return it == pools_.end() ? 0 : it->second.free();
}

Result<TreePlan> AggregationManager::allocate(const TreeRequest& req) {
  if (req.hosts.empty())
    return make_error(StatusCode::invalid_argument, "tree request without members");
  if (req.slots == 0 || req.slots > wire::kMaxSlot + 1u)
    return make_error(StatusCode::invalid_argument, fmt::format("tree request for {} slots (1..{})",
                                                                req.slots, wire::kMaxSlot + 1));
  std::set<std::uint32_t> unique(req.hosts.begin(), req.hosts.end());
  if (unique.size() != req.hosts.size())
    return make_error(StatusCode::invalid_argument, "tree request names a host twice");
  for (std::uint32_t h : req.hosts)
    if (h >= topology_.host_count())
      return make_error(StatusCode::invalid_argument, fmt::format("no host {} in the fabric", h));

  // Root: the switch nearest to the farthest member (minimum eccentricity);
  // among equals, rotate by tree id so trees spread over the spines.
  const std::vector<std::uint32_t> switches = topology_.switch_nodes();
  // Every tree of one placement that avoids nothing asks the same distances
  // (a two-tier all-reduce allocates one tree per shard, 72 on gb300, each
  // searching from all 100 InfiniBand switches).
  const bool avoids = !req.avoid_switches.empty() || !req.avoid_links.empty();
  Reach reach(topology_, req, avoids ? nullptr : &distances_[req.placement]);
  std::uint32_t best = std::numeric_limits<std::uint32_t>::max();
  std::vector<std::uint32_t> roots;
  for (std::uint32_t sw : switches) {
    if (!reach.usable_switch(sw)) continue;
    std::uint32_t ecc = 0;
    for (std::uint32_t h : req.hosts)
      ecc = std::max(ecc, reach.distance(sw, topology_.host_node(h)));
    if (ecc < best) {
      best = ecc;
      roots.clear();
    }
    if (ecc == best) roots.push_back(sw);
  }
  if (roots.empty() || best == std::numeric_limits<std::uint32_t>::max())
    return make_error(StatusCode::no_tree, "no switch reaches every member");
  if (live_.size() >= 0xffff)
    return make_error(StatusCode::no_resource, "all 65535 tree ids are live");
  while (live_.count(next_tree_)) next_tree_ = next_tree_ == 0xffff ? 1 : next_tree_ + 1;
  const std::uint16_t tree_id = next_tree_;
  const std::uint32_t root = roots[tree_id % roots.size()];

  // Parent of each node: its lowest-numbered port one hop closer to the root.
  // Choosing per node (not per path) makes the union of paths a tree.
  std::map<std::uint32_t, std::uint16_t> parent_port;               // node -> port toward root
  std::map<std::uint32_t, std::vector<std::uint16_t>> child_ports;  // switch -> ports
  std::vector<HostAttachment> members;
  std::uint32_t levels = 0;
  for (std::uint32_t h : req.hosts) {
    std::uint32_t at = topology_.host_node(h);
    HostAttachment member{h, 0, 0};
    std::uint32_t depth = 0;
    while (at != root) {
      std::uint16_t up = 0;
      if (auto it = parent_port.find(at); it != parent_port.end()) {
        up = it->second;
      } else {
        const auto& ports = topology_.node(at).ports;
        const std::uint32_t d = reach.distance(root, at);
        bool found = false;
        for (std::uint16_t p = 0; p < ports.size() && !found; ++p) {
          const std::uint32_t peer = ports[p].peer_node;
          if (peer == topology::kUnconnected || topology_.node(peer).kind != NodeKind::switch_node)
            continue;
          if (!reach.usable_switch(peer) || !reach.usable_link(at, p)) continue;
          const std::uint32_t dp = reach.distance(root, peer);
          if (dp != kUnreached && dp + 1 == d) {
            up = p;
            found = true;
          }
        }
        if (!found)
          return make_error(StatusCode::no_tree, fmt::format("host {} cannot reach the root", h));
        parent_port[at] = up;
        const auto& port = topology_.node(at).ports[up];
        child_ports[port.peer_node].push_back(port.peer_port);
      }
      const std::uint32_t next = topology_.node(at).ports[up].peer_node;
      if (depth == 0) member.leaf_node = next;
      at = next;
      ++depth;
    }
    levels = std::max(levels, depth);
    members.push_back(member);
  }
  // Child order = ingress port order: deterministic, and the order a
  // reproducible reduction folds in.
  for (auto& [sw, ports] : child_ports) std::sort(ports.begin(), ports.end());
  for (HostAttachment& m : members) {
    m.host_port = parent_port.at(topology_.host_node(m.host));
    const auto& host_port = topology_.node(topology_.host_node(m.host)).ports[m.host_port];
    const auto& ports = child_ports[m.leaf_node];
    m.child_index = static_cast<std::uint16_t>(
        std::lower_bound(ports.begin(), ports.end(), host_port.peer_port) - ports.begin());
  }

  TreePlan plan;
  plan.job = req.job;
  plan.key_tag = req.key_tag;
  plan.tree = tree_id;
  plan.slots = req.slots;
  plan.root = root;
  plan.switch_levels = levels;
  plan.members = std::move(members);
  plan.slot_payload_bytes = req.max_payload_bytes;
  // Every packet of the tree crosses a link up and down: the payload fits
  // the smallest slot and the smallest MTU of the tree.
  for (const auto& [sw, ports] : child_ports) {
    const topology::Node& node = topology_.node(sw);
    plan.slot_payload_bytes =
        std::min(plan.slot_payload_bytes, node.switch_spec.slot_payload_bytes);
    plan.caps = plan.caps & node.switch_spec.caps;
    for (std::uint16_t p : ports) {
      const topology::Port& down = node.ports[p];
      const std::uint32_t mtu =
          std::min(down.link.mtu, topology_.node(down.peer_node).ports[down.peer_port].link.mtu);
      plan.slot_payload_bytes =
          std::min(plan.slot_payload_bytes, mtu - static_cast<std::uint32_t>(wire::kHeaderBytes));
    }
  }
  plan.slot_payload_bytes -= plan.slot_payload_bytes % 8;  // whole elements of every dtype
  if (plan.slot_payload_bytes == 0)
    return make_error(StatusCode::no_resource, "slot payload smaller than one 8-byte element");
  const double packet =
      static_cast<double>(plan.slot_payload_bytes + wire::kHeaderBytes + wire::kFramingBytes);
  for (const auto& [sw, ports] : child_ports) {
    const topology::Node& node = topology_.node(sw);
    const topology::SwitchSpec& spec = node.switch_spec;
    double alu = 0;
    if (spec.aggregation_gbps > 0) alu = plan.slot_payload_bytes * 8000.0 / spec.aggregation_gbps;
    if (spec.aggregation_pps > 0) alu = std::max(alu, 1e12 / spec.aggregation_pps);
    double slowest = static_cast<double>(ports.size()) * alu;
    for (std::uint16_t p : ports) {
      const topology::Port& down = node.ports[p];
      const topology::Port& up = topology_.node(down.peer_node).ports[down.peer_port];
      slowest =
          std::max({slowest, packet * 8000.0 / down.link.gbps, packet * 8000.0 / up.link.gbps});
    }
    plan.chunk_service = std::max(plan.chunk_service, static_cast<Time>(std::llround(slowest)));
  }

  // Reserve slots on every switch of the tree, or none.
  for (const auto& [sw, ports] : child_ports) {
    auto base = pools_.at(sw).allocate(req.slots);
    if (!base) {
      const std::uint32_t free = pools_.at(sw).largest_free_range();
      for (auto& [done_sw, install] : plan.installs) pools_.at(done_sw).release(install.slot_base);
      return make_error(StatusCode::no_resource,
                        fmt::format("switch {} has {} contiguous free slots; the tree needs {}",
                                    topology_.node(sw).name, free, req.slots));
    }
    wire::TreeInstall install;
    install.job = req.job;
    install.key_tag = req.key_tag;
    install.tree = tree_id;
    install.slot_base = static_cast<std::uint16_t>(*base);
    install.slot_count = static_cast<std::uint16_t>(req.slots);
    install.slot_payload_bytes = plan.slot_payload_bytes;
    install.child_ports = ports;
    if (sw != root) {
      install.parent_port = parent_port.at(sw);
      const auto& up = topology_.node(sw).ports[install.parent_port];
      const auto& siblings = child_ports.at(up.peer_node);
      install.index_at_parent = static_cast<std::uint16_t>(
          std::lower_bound(siblings.begin(), siblings.end(), up.peer_port) - siblings.begin());
    }
    plan.installs.emplace_back(sw, std::move(install));
  }
  if (admission_) {
    if (Status admitted = admission_->admit(plan, req.identity); !admitted.ok()) {
      for (auto& [sw, install] : plan.installs) pools_.at(sw).release(install.slot_base);
      return admitted;
    }
  }
  auto& held = live_[tree_id];
  for (const auto& [sw, install] : plan.installs) held.emplace_back(sw, install.slot_base);
  ++next_tree_;
  if (next_tree_ == 0) next_tree_ = 1;
  return plan;
}

Status AggregationManager::release(const TreePlan& plan) {
  auto it = live_.find(plan.tree);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> claimed;
  for (const auto& [sw, install] : plan.installs) claimed.emplace_back(sw, install.slot_base);
  if (it == live_.end() || it->second != claimed)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("tree {} is not a live tree of this manager", plan.tree));
  for (const auto& [sw, base] : it->second) pools_.at(sw).release(base);
  live_.erase(it);
  if (admission_) admission_->release(plan);
  return {};
}

void AggregationManager::set_admission(std::shared_ptr<TreeAdmission> admission) {
  admission_ = std::move(admission);
}

Status AggregationManager::lock_streaming(const TreePlan& plan) {
  if (!admission_ || !live_.count(plan.tree))
    return make_error(StatusCode::lock_denied,
                      fmt::format("tree {} has no streaming resources to lock", plan.tree));
  return admission_->lock_streaming(plan);
}

}  // namespace inca::manager
