// A Graphviz drawing of a fabric and the reduction tree on it: switches by
// tier with the root on top, hosts at the bottom, every link in grey and the
// tree's links in bold from each child up to its parent. `dot -Tsvg` lays
// it out (`inca report` embeds it). Large worlds draw each switch's hosts as
// one box, so a 64-host leaf-spine stays readable.
#pragma once

#include <string>

#include "manager/aggregation_manager.hpp"
#include "topology/topology.hpp"

namespace inca::manager {

/// Hosts above this many are drawn per switch, as one box.
inline constexpr std::uint32_t kDrawEachHostUpTo = 32;

/// DOT text of `topology` with `tree` (nullptr: the fabric alone) drawn on it.
std::string tree_dot(const topology::Topology& topology, const TreePlan* tree);

}  // namespace inca::manager
