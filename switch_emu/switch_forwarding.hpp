// What a switch does with one arriving packet, in every fabric: aggregation
// packets (contributions, results, and the errors that refuse a chunk) go to
// the switch's aggregation engine;
// anything else is forwarded toward its destination host by the routing
// table; a packet addressed to no host is dropped.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "engine/aggregation_node.hpp"
#include "topology/topology.hpp"
#include "wire/packet.hpp"

namespace inca::fabric {

/// The port switch `node` forwards a packet that is not for its engine to
/// (point-to-point data, acknowledgements, control); nullopt when the packet
/// is addressed to no host (it is dropped).
inline std::optional<std::uint16_t> forward_port(const topology::Topology& topology,
                                                 std::uint32_t node, const wire::Packet& packet) {
  if (packet.dst >= topology.host_count()) return std::nullopt;
  return topology.route(node, packet.dst);
}

/// Handles `packet` arriving on `in_port` of switch `node`; appends what to
/// send, and on which port, to `out`.
inline void switch_packet(engine::AggregationNode& engine, const topology::Topology& topology,
                          std::uint32_t node, std::uint16_t in_port, wire::Packet&& packet,
                          std::vector<engine::Emit>& out) {
  const wire::PacketType type = packet.header.type;
  if (type == wire::PacketType::contribution || type == wire::PacketType::result ||
      type == wire::PacketType::error) {
    engine.on_packet(in_port, packet, out);
  } else if (const auto port = forward_port(topology, node, packet)) {
    out.push_back(engine::Emit{*port, std::move(packet)});
  }
}

}  // namespace inca::fabric
