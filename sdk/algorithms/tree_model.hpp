// The cost model's view of a routed fabric: an aggregation tree as levels
// (leaves first, each the worst of its switches and of the links below them)
// and the hosts' per-message costs.
#pragma once

#include <vector>

#include "inca/cost_model.hpp"
#include "manager/aggregation_manager.hpp"
#include "topology/topology.hpp"

namespace inca::algorithms {

/// The levels of `tree`: a switch's level is 0 when only hosts hang below
/// it, else one more than its highest child switch's.
std::vector<ModelTreeLevel> tree_levels(const topology::Topology& topology,
                                        const manager::TreePlan& tree);

/// The scale-up domains of hosts 0..ranks-1 and the trees of the two-tier
/// all-reduce, built (and freed) on a scratch aggregation manager with the
/// world tree's `window` and `max_payload_bytes`: the first domain's and
/// the first shard's (ModelTwoTier).
ModelTwoTier two_tier_model(const topology::Topology& topology, std::uint32_t ranks,
                            std::uint32_t window, std::uint32_t max_payload_bytes);

/// The worst of hosts 0..ranks-1: largest overheads and gap, slowest reduction.
ModelHost host_model(const topology::Topology& topology, std::uint32_t ranks);

}  // namespace inca::algorithms
