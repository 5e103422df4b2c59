// How a set of simultaneous flows loads the fabric: the longest routed path
// and the largest number of flows that share one link direction. The cost
// model uses it for host algorithms whose steps are all-pairs exchanges
// (recursive doubling crosses oversubscribed leaf uplinks, a ring does not).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "topology/topology.hpp"

namespace inca::topology {

struct PatternLoad {
  std::uint32_t max_links = 0;  ///< links on the longest path
  std::uint32_t sharing = 0;    ///< most flows on one link direction
};

/// Routes each (source host, destination host) flow and measures the load.
PatternLoad pattern_load(const Topology& topology,
                         const std::vector<std::pair<std::uint32_t, std::uint32_t>>& flows);

}  // namespace inca::topology
