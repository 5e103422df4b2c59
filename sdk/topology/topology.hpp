// The fabric graph: hosts and switches joined by full-duplex links, with the
// builders for the shapes users know (a star around one switch, a two-level
// leaf-spine) and deterministic shortest-path routing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "inca/caps.hpp"
#include "inca/fabric_description.hpp"
#include "inca/status.hpp"
#include "inca/time.hpp"

namespace inca::topology {

/// One direction of a link.
struct LinkSpec {
  double gbps = 100.0;                 ///< line rate in Gb/s
  Time latency = 500 * kPicosPerNano;  ///< propagation plus switching latency
  std::uint32_t mtu = 4096;            ///< largest inca packet (header + payload) it carries
};

/// Aggregation resources and timing of a switch (SHARP's OSTs and payload
/// per OST; FabricDescription's switch fields).
struct SwitchSpec {
  std::uint32_t slots = 512;
  std::uint32_t slot_payload_bytes = 1024;
  SwitchCaps caps = {};          ///< the dtypes and ops it aggregates
  bool aggregates = true;        ///< false: forwards only, never in a tree
  Time forwarding_latency = 0;   ///< added to every packet it sends
  Time aggregation_latency = 0;  ///< ALU pipeline latency per contribution
  double aggregation_gbps = 0;   ///< ALU payload rate; 0: unlimited
  double aggregation_pps = 0;    ///< ALU contributions per second; 0: unlimited
  std::uint32_t max_llt_trees = 511;
  std::uint32_t max_sat_trees = 511;
  StreamingLock streaming_lock = StreamingLock::per_port;
};

enum class NodeKind : std::uint8_t { host, switch_node };

struct Port {
  std::uint32_t peer_node = 0;
  std::uint16_t peer_port = 0;
  LinkSpec link;
};

/// peer_node of a host port that has no link yet.
inline constexpr std::uint32_t kUnconnected = 0xffffffffu;

struct Node {
  NodeKind kind = NodeKind::host;
  std::string name;
  std::vector<Port> ports;
  SwitchSpec switch_spec;        ///< switches only
  std::uint32_t host_index = 0;  ///< hosts only: the fabric address
  std::uint32_t tier = 0;        ///< 0 hosts, 1 leaves, 2 spines
  HostTiming host_timing;        ///< hosts only
};

/// The graph plus routing tables. Node ids are indices into nodes().
class Topology {
 public:
  /// `hosts` hosts on one switch.
  static Result<Topology> star(std::uint32_t hosts, LinkSpec link, SwitchSpec sw);
  /// ceil(hosts / hosts_per_leaf) leaves, each joined to every one of `spines`.
  static Result<Topology> leaf_spine(std::uint32_t hosts, std::uint32_t hosts_per_leaf,
                                     std::uint32_t spines, LinkSpec host_link, LinkSpec fabric_link,
                                     SwitchSpec sw);

  const std::vector<Node>& nodes() const { return nodes_; }
  const Node& node(std::uint32_t id) const { return nodes_[id]; }
  std::uint32_t host_count() const { return static_cast<std::uint32_t>(hosts_.size()); }
  /// Node id of host (rank) h.
  std::uint32_t host_node(std::uint32_t host) const { return hosts_[host]; }
  std::vector<std::uint32_t> switch_nodes() const;
  /// Egress port of `node` toward host `dst`. A host with several ports
  /// takes the one nearest to `dst`, then the fastest, then one chosen by `dst`.
  std::uint16_t route(std::uint32_t node, std::uint32_t dst_host) const;
  /// Hop count between a switch and any node.
  std::uint32_t distance_from_switch(std::uint32_t sw, std::uint32_t node) const;
  /// The nodes on the routed path from host a to host b, both included.
  std::vector<std::uint32_t> path(std::uint32_t src_host, std::uint32_t dst_host) const;
  /// Calls visit(node, egress port) for each hop of the routed path from
  /// host a to host b, in order. A walk longer than the fabric has nodes is a
  /// routing loop and stops there.
  template <class Visit>
  void for_each_hop(std::uint32_t src_host, std::uint32_t dst_host, Visit&& visit) const {
    std::uint32_t at = hosts_[src_host];
    for (std::size_t hops = 0; at != hosts_[dst_host] && hops < nodes_.size(); ++hops) {
      const std::uint16_t port = route(at, dst_host);
      visit(at, port);
      at = nodes_[at].ports[port].peer_node;
    }
  }
  /// Short description, e.g. "leaf-spine: 64 hosts, 8 leaves, 2 spines".
  std::string describe() const { return description_; }

  /// Sets what host `host` (rank) pays per message and reduces at.
  void set_host_timing(std::uint32_t host, HostTiming timing) {
    nodes_[hosts_[host]].host_timing = timing;
  }
  /// Sets the caps of the switch called `name`; false when there is none.
  bool set_switch_caps(const std::string& name, SwitchCaps caps);

  /// Adds a node / a link; builders use these, and so can tests.
  std::uint32_t add_host(std::string name);
  std::uint32_t add_switch(std::string name, SwitchSpec spec, std::uint32_t tier);
  void connect(std::uint32_t a, std::uint32_t b, LinkSpec link);
  /// A host with `ports` NIC ports, each unconnected until connect_port().
  std::uint32_t add_host(std::string name, std::uint16_t ports, HostTiming timing);
  /// Links port `port` of host node `host` to switch node `sw`: `up` is the
  /// host-to-switch direction, `down` the other.
  void connect_port(std::uint32_t host, std::uint16_t port, std::uint32_t sw, LinkSpec up,
                    LinkSpec down);
  /// Links two switches, a to b at `ab` and b to a at `ba`.
  void connect(std::uint32_t a, std::uint32_t b, LinkSpec ab, LinkSpec ba);
  /// Sets what describe() says.
  void set_description(std::string text) { description_ = std::move(text); }
  /// Computes hop distances and routing tables; call after the last connect().
  void finalize();

 private:
  /// Hops from a port's peer node to `target`: 0 when it is the target,
  /// unreachable through any other host or an unconnected port.
  std::uint32_t peer_distance(std::uint32_t peer, std::uint32_t target) const;

  std::vector<Node> nodes_;
  std::vector<std::uint32_t> hosts_;
  std::vector<std::uint32_t> switch_rank_;  // node id -> index among switches (or ~0)
  std::vector<std::uint16_t> routes_;       // switch x host -> egress port
  std::vector<std::uint32_t> distances_;    // switch x node hop counts
  std::string description_;
};

}  // namespace inca::topology
