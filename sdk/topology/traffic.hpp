// How a set of simultaneous flows loads the fabric: the longest routed path
// and the largest number of flows that share one link direction. The cost
// model uses it for host algorithms whose steps are all-pairs exchanges
// (recursive doubling crosses oversubscribed leaf uplinks, a ring does not).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "inca/cost_model.hpp"
#include "topology/topology.hpp"

namespace inca::topology {

struct PatternLoad {
  std::uint32_t max_links = 0;  ///< links on the longest path
  std::uint32_t sharing = 0;    ///< most flows on one link direction
};

using Flows = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

/// Routes each (source host, destination host) flow and measures the load.
PatternLoad pattern_load(const Topology& topology, const Flows& flows);

/// What the flows of a pattern pay on their routes, all at once (link
/// rates, shared links, latencies, forwarding): `worst` is each term's
/// largest value over the flows (the step a collective waits for), `mean`
/// the mean links and fixed and store-and-forward costs with the slowest
/// flow's bottleneck (a ring, whose delays chain around it).
struct PatternPath {
  PatternLoad load;
  ModelPath worst;
  ModelPath mean;
  std::vector<ModelPath> each;     ///< every flow's own path, in the order of the flows
  std::vector<ModelQueue> queues;  ///< where each flow's packets queue, likewise
};
PatternPath pattern_path(const Topology& topology, const Flows& flows);

}  // namespace inca::topology
