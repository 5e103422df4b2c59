// Hierarchical all-reduce, as NCCL's CollNet: consecutive ranks form host
// groups of G; each group reduces to its first rank (the leader) with the
// binomial host reduce, the leaders all-reduce on the switches over their own
// sub-communicator's tree, and each leader broadcasts the result back to its
// group (binomial). Its prepare() splits the communicator once and keeps the
// two sub-communicators for later calls. Cost: docs/model.md, "Hierarchical
// all-reduce".
#pragma once

#include <cstdint>
#include <memory>

#include "inca/algorithm.hpp"
#include "inca/caps.hpp"
#include "inca/communicator.hpp"
#include "inca/cost_model.hpp"

namespace inca::algorithms {

/// Ranks per group where neither the fabric option nor the topology says:
/// on sub-communicators (which carry no fabric model) and in a ModelFabric
/// whose `group` is 0.
inline constexpr std::uint32_t kDefaultHierarchicalGroup = 8;

/// G for a communicator whose fabric model is `model` (may be null):
/// model->group, else kDefaultHierarchicalGroup. Not capped at the ranks.
std::uint32_t hierarchical_group_size(const ModelFabric* model);

/// What prepare() leaves in Communicator::algorithm_state("hierarchical").
struct HierarchicalState {
  bool ready = false;  ///< false while prepare() is still splitting
  std::uint32_t group_size = 0;
  bool leader = false;
  std::unique_ptr<Communicator> group;    ///< this rank's host group; leader is rank 0
  std::unique_ptr<Communicator> leaders;  ///< the leaders' sub-communicator (leaders only)
  /// Whether the leaders' tree can run the switch step (the leader's word,
  /// broadcast to its group, so that every rank refuses a call alike), and
  /// what its switches aggregate.
  Status switch_status;
  SwitchCaps switch_caps = SwitchCaps::none();
};

/// Splits `comm` into host groups and the leaders' sub-communicator on first
/// use. Nothing to split with one rank, G = 1 (innet on comm) or G >= p
/// (binomial tree on comm). Errors: not_supported on a communicator not
/// made by a World (split() cannot run there); a split's
/// error (no_resource when a rank already holds too many sub-communicators),
/// on every rank alike; not_supported while another call is still setting
/// up (iallreduce runs the set-up before it starts its fiber, so only a
/// call from inside a collective can meet that).
Status hierarchical_prepare(Communicator& comm);

/// One attempt. not_supported, before anything is sent, when the leaders
/// have no tree or their switches do not aggregate the pair.
Status hierarchical_allreduce(Communicator& comm, const AllreduceArgs& args);

}  // namespace inca::algorithms
