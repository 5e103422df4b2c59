// The usual fabric shapes, built element by element into a description so
// nobody writes 4,608 hosts by hand. Every generator takes templates (a
// host, each tier's switch, each tier's link) and stamps named copies; node
// and port order follow the build order documented per generator, which the
// routing and the trees (child order) depend on.
#pragma once

#include <cstdint>
#include <string>

#include "inca/fabric_description.hpp"

namespace inca::fabric_file {

/// `hosts` hosts "host<i>" on one switch "switch0" (tier 1).
void generate_star(FabricDescription& out, std::uint32_t hosts, const HostDescription& host,
                   const SwitchDescription& sw, const LinkDescription& host_link);

struct LeafSpineShape {
  std::uint32_t hosts = 64;
  std::uint32_t hosts_per_leaf = 8;
  std::uint32_t spines = 2;
  std::uint32_t uplinks_per_leaf = 0;  ///< 0: one to each spine; else a multiple of spines
};

/// Scale-up domains beside a leaf-spine (NVLink): every `hosts_per_domain`
/// consecutive hosts share one domain switch through their port `port`.
struct ScaleUpShape {
  std::uint32_t hosts_per_domain = 0;
  std::string port;
};

/// ceil(hosts / hosts_per_leaf) leaves "leaf<l>" (tier 1) and `spines`
/// spines "spine<s>" (tier 2); host i on leaf i / hosts_per_leaf; uplink j of
/// a leaf to spine j mod spines. Links: every host link in host order, then
/// each leaf's uplinks. `host_port` names the host port cabled to its leaf
/// ("" for a host's only port).
void generate_leaf_spine(FabricDescription& out, const LeafSpineShape& shape,
                         const HostDescription& host, const SwitchDescription& leaf,
                         const SwitchDescription& spine, const LinkDescription& host_link,
                         const LinkDescription& uplink, const std::string& host_port = "");

/// ceil(hosts / hosts_per_domain) switches "domain<d>" (tier 1) after those
/// already in `out`; port `shape.port` of host i links to domain
/// i / hosts_per_domain. Links: one per host, in host order.
void generate_scale_up_domains(FabricDescription& out, std::uint32_t hosts,
                               const ScaleUpShape& shape, const SwitchDescription& sw,
                               const LinkDescription& link);

/// A three-tier k-ary fat tree (k even): k pods of k/2 edge switches
/// "edge<p>_<i>" (tier 1) and k/2 aggregation switches "agg<p>_<i>" (tier 2),
/// (k/2)^2 core switches "core<c>" (tier 3); edge switch i of a pod serves
/// k/2 consecutive hosts; aggregation switch i of a pod links to cores
/// [i k/2, (i+1) k/2). `hosts` may be fewer than k^3/4 (the first ones).
void generate_fat_tree(FabricDescription& out, std::uint32_t k, std::uint32_t hosts,
                       const HostDescription& host, const SwitchDescription& edge,
                       const SwitchDescription& aggregation, const SwitchDescription& core,
                       const LinkDescription& host_link, const LinkDescription& edge_link,
                       const LinkDescription& core_link);

/// Rail-optimised leaf-spine: hosts with `rails` ports; hosts are grouped by
/// hosts_per_leaf, each group has one leaf per rail "rail<r>_leaf<g>"
/// (tier 1), and host port r links to its group's rail-r leaf. Every leaf
/// has uplinks to the spines as in generate_leaf_spine.
void generate_rail_leaf_spine(FabricDescription& out, const LeafSpineShape& shape,
                              std::uint32_t rails, const HostDescription& host,
                              const SwitchDescription& leaf, const SwitchDescription& spine,
                              const LinkDescription& host_link, const LinkDescription& uplink);

}  // namespace inca::fabric_file
