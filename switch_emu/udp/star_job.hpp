// The manager's part of a job: the tree it asks for, and, on one inca-switch
// whose port i leads to rank i, planning that tree on the matching star and
// installing it over the switch's control channel (the MPI bootstrap's rank
// 0 does; `inca launch` plans on its own topology, udp/switch_fabric.hpp).
#pragma once

#include <cstdint>
#include <span>

#include "inca/status.hpp"
#include "manager/aggregation_manager.hpp"
#include "manager/switch_control_client.hpp"

namespace inca::udp {

/// A job as the launcher sees it: its ranks, identity and tree shape.
struct JobSpec {
  std::uint32_t ranks = 0;
  std::uint32_t job = 0;
  std::uint32_t key_tag = 0;
  std::uint32_t slots = 64;          ///< the tree's window
  std::uint32_t slot_bytes = 1024;   ///< payload per chunk
  std::uint32_t switch_slots = 512;  ///< the switch's slot pool (its --slots)
};

/// What the job asks the AggregationManager for: a tree over every rank.
manager::TreeRequest tree_request(const JobSpec& job);

/// Allocates the job's tree with the AggregationManager and installs it;
/// the switch's verdict (e.g. no_resource) when it refuses. `ports[r]` is
/// the switch port of rank r (empty: port r).
Result<manager::TreePlan> install_star_tree(manager::SwitchControlClient& client,
                                            const JobSpec& job,
                                            std::span<const std::uint16_t> ports = {});

}  // namespace inca::udp
