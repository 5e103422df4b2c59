// RecoveryOptions as a fabric uses them: defaults resolved for the fabric
// kind, checked, and turned into the endpoint configuration every host gets.
#pragma once

#include "inca/faults.hpp"
#include "inca/status.hpp"
#include "inca/world.hpp"
#include "protocol/endpoint_types.hpp"
#include "topology/topology.hpp"

namespace inca::runtime {

/// The options with every 0 ("the fabric's default") replaced.
RecoveryOptions resolve(const RecoveryOptions& options, FabricKind fabric);
/// invalid_argument naming the field when a value can never work.
Status validate(const RecoveryOptions& options, Time retransmit_timeout);
/// A bound on the fabric's longest host-to-host round trip of full packets.
Time longest_round_trip(const topology::Topology& topology);
/// Reliable point-to-point, adaptive timeouts and the give-up bounds; the
/// first timeout is a few of `round_trip` (longest_round_trip()).
void apply(const RecoveryOptions& resolved, Time round_trip, protocol::EndpointConfig& endpoint);

}  // namespace inca::runtime
