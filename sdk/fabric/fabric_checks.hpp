// What makes a described fabric unusable or suspicious, found after it was
// read: links to nodes that do not exist, ports used twice, switches with
// more links than ports, hosts that cannot reach each other, MTUs that do not
// carry a header and a slot's payload, oversubscribed tiers (a warning).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fabric/yaml_reader.hpp"
#include "inca/fabric_description.hpp"

namespace inca::fabric_file {

/// A link end resolved to an element: a host (and which of its ports) or a switch.
struct ResolvedEnd {
  bool host = false;
  std::uint32_t index = 0;  ///< into hosts or switches
  std::uint16_t port = 0;   ///< hosts: index into its ports
};

/// Resolves every link's ends by name; problems go to `sink` (when given)
/// and make the result nullopt.
std::optional<std::vector<std::pair<ResolvedEnd, ResolvedEnd>>> resolve_links(
    const FabricDescription& fabric, YamlReader* sink);

/// Every structural and semantic check, as diagnostics in `sink`.
void check_fabric(const FabricDescription& fabric, YamlReader& sink);

/// Oversubscription per tier: for each tier that has links up, the largest
/// ratio of a switch's down capacity to its up capacity, with the two.
struct TierLoad {
  std::uint32_t tier = 0;
  double ratio = 1;
  double down_gbps = 0, up_gbps = 0;  ///< of the worst switch
  std::string worst;                  ///< its name
};
std::vector<TierLoad> tier_loads(const FabricDescription& fabric,
                                 const std::vector<std::pair<ResolvedEnd, ResolvedEnd>>& links);

}  // namespace inca::fabric_file
