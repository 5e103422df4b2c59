// The manager's part of a job on one inca-switch whose port i leads to rank
// i: plan the job's tree on the matching star topology and install it over
// the switch's control channel. `inca launch` calls it before the ranks start.
#pragma once

#include <cstdint>
#include <span>

#include "inca/status.hpp"
#include "manager/aggregation_manager.hpp"
#include "manager/switch_control_client.hpp"

namespace inca::udp {

struct StarJob {
  std::uint32_t ranks = 0;
  std::uint32_t job = 0;
  std::uint32_t key_tag = 0;
  std::uint32_t slots = 64;          ///< the tree's window
  std::uint32_t slot_bytes = 1024;   ///< payload per chunk
  std::uint32_t switch_slots = 512;  ///< the switch's slot pool (its --slots)
};

/// Allocates the job's tree with the AggregationManager and installs it;
/// the switch's verdict (e.g. no_resource) when it refuses. `ports[r]` is
/// the switch port of rank r (empty: port r).
Result<manager::TreePlan> install_star_tree(manager::SwitchControlClient& client,
                                            const StarJob& job,
                                            std::span<const std::uint16_t> ports = {});

}  // namespace inca::udp
