#include "manager/tree_dot.hpp"

#include <map>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace inca::manager {
namespace {

// A node's DOT id: switches by name, hosts by name or by their switch's box.
std::string dot_id(const topology::Topology& topology, std::uint32_t node, bool group_hosts) {
  const topology::Node& n = topology.node(node);
  if (n.kind == topology::NodeKind::host && group_hosts)
    return fmt::format("\"hosts of {}\"", topology.node(n.ports[0].peer_node).name);
  return fmt::format("\"{}\"", n.name);
}

}  // namespace

std::string tree_dot(const topology::Topology& topology, const TreePlan* tree) {
  const bool group = topology.host_count() > kDrawEachHostUpTo;
  std::string out =
      "digraph fabric {\n"
      "  rankdir=BT; nodesep=0.15; ranksep=0.6;\n"
      "  node [fontname=\"Helvetica\", fontsize=10, style=filled];\n"
      "  edge [arrowhead=none, color=\"#bbbbbb\"];\n";
  // Tree membership: switch -> parent, and the tree's child links.
  std::set<std::pair<std::uint32_t, std::uint32_t>> tree_links;  // (child, parent)
  std::set<std::uint32_t> in_tree;
  if (tree)
    for (const auto& [sw, install] : tree->installs) {
      in_tree.insert(sw);
      const topology::Node& n = topology.node(sw);
      for (std::uint16_t port : install.child_ports)
        tree_links.insert({n.ports[port].peer_node, sw});
    }

  std::map<std::uint32_t, std::vector<std::uint32_t>> tiers;
  for (std::uint32_t id = 0; id < topology.nodes().size(); ++id) {
    const topology::Node& n = topology.node(id);
    if (n.kind == topology::NodeKind::switch_node) tiers[n.tier].push_back(id);
  }
  for (const auto& [tier, switches] : tiers) {
    out += "  { rank=same;";
    for (std::uint32_t sw : switches) {
      const bool root = tree && tree->root == sw;
      const char* fill = root ? "#f4a259" : in_tree.count(sw) ? "#8cb369" : "#eeeeee";
      out += fmt::format(" {} [shape={}, fillcolor=\"{}\", label=\"{}{}\"];",
                         dot_id(topology, sw, false), root ? "doubleoctagon" : "box", fill,
                         topology.node(sw).name, root ? "\\n(root)" : "");
    }
    out += " }\n";
  }
  // Hosts: one node each, or one box per switch with their range.
  std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> boxes;  // id -> first, count
  out += "  { rank=same;";
  for (std::uint32_t h = 0; h < topology.host_count(); ++h) {
    const std::uint32_t node = topology.host_node(h);
    if (!group) {
      out += fmt::format(" {} [shape=ellipse, fillcolor=\"#cfe2f3\", label=\"rank {}\"];",
                         dot_id(topology, node, false), h);
      continue;
    }
    auto [it, fresh] = boxes.try_emplace(dot_id(topology, node, true), h, 0);
    it->second.second++;
  }
  for (const auto& [id, range] : boxes)
    out += fmt::format(" {} [shape=box3d, fillcolor=\"#cfe2f3\", label=\"ranks {}..{}\"];", id,
                       range.first, range.first + range.second - 1);
  out += " }\n";

  // Every link once; a grouped box gets one edge to its switch.
  std::set<std::pair<std::string, std::string>> drawn;
  for (std::uint32_t id = 0; id < topology.nodes().size(); ++id)
    for (const topology::Port& p : topology.node(id).ports) {
      const bool up = topology.node(p.peer_node).tier > topology.node(id).tier;
      if (!up) continue;
      const std::string from = dot_id(topology, id, group);
      const std::string to = dot_id(topology, p.peer_node, group);
      if (!drawn.insert({from, to}).second) continue;
      const bool on_tree = tree_links.count({id, p.peer_node}) > 0;
      out += on_tree
                 ? fmt::format("  {} -> {} [color=\"#2d6a4f\", penwidth=2.5, arrowhead=normal];\n",
                               from, to)
                 : fmt::format("  {} -> {};\n", from, to);
    }
  out += "}\n";
  return out;
}

}  // namespace inca::manager
