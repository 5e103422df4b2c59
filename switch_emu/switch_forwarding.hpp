// What a switch does with one arriving packet, in every fabric: aggregation
// packets (contributions, results, and the errors that refuse a chunk) go to
// the switch's aggregation engine;
// anything else is forwarded toward its destination host by the routing
// table; a packet addressed to no host is dropped.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/aggregation_node.hpp"
#include "topology/topology.hpp"
#include "wire/packet.hpp"

namespace inca::fabric {

/// Handles `packet` arriving on `in_port` of switch `node`; appends what to
/// send, and on which port, to `out`.
inline void switch_packet(engine::AggregationNode& engine, const topology::Topology& topology,
                          std::uint32_t node, std::uint16_t in_port, wire::Packet&& packet,
                          std::vector<engine::Emit>& out) {
  const wire::PacketType type = packet.header.type;
  if (type == wire::PacketType::contribution || type == wire::PacketType::result ||
      type == wire::PacketType::error) {
    engine.on_packet(in_port, packet, out);
  } else if (packet.dst < topology.host_count()) {
    out.push_back(engine::Emit{topology.route(node, packet.dst), std::move(packet)});
  }
}

}  // namespace inca::fabric
