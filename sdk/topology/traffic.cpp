#include "topology/traffic.hpp"

#include <algorithm>
#include <map>

namespace inca::topology {

PatternLoad pattern_load(const Topology& topology,
                         const std::vector<std::pair<std::uint32_t, std::uint32_t>>& flows) {
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

}  // namespace inca::topology
