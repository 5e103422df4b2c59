#include "algorithms/hierarchical_allreduce.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "algorithms/binomial_tree_allreduce.hpp"
#include "algorithms/innet_allreduce.hpp"
#include "algorithms/split_once.hpp"
#include "inca/collective.hpp"

namespace inca::algorithms {
namespace {

constexpr const char* kName = "hierarchical";

// G capped at the ranks: a group never outgrows the communicator.
std::uint32_t group_size(const Communicator& comm) {
  return std::min<std::uint32_t>(hierarchical_group_size(comm.model()),
                                 static_cast<std::uint32_t>(comm.size()));
}

CollectiveOptions by_host(Collective collective, bool reproducible) {
  return {.algorithm = std::string(host_algorithm(collective)), .reproducible = reproducible};
}

// Ranks whose split failed (say a member held kMaxSubCommunicators already)
// return early while the others go on to the next collective on `comm` and
// would wait there for them until the failure timeout: every rank learns the
// worst outcome first, and all return it. Out of band, so that payload-free
// runs agree too.
Status agree(Communicator& comm, const Status& mine) {
  const auto code = static_cast<std::int32_t>(mine.code());
  auto all = comm.out_of_band_allgather(std::string(reinterpret_cast<const char*>(&code), 4));
  if (!all.ok()) return all.status();
  std::int32_t worst = 0;
  for (const std::string& theirs : **all) {
    std::int32_t c = 0;
    std::memcpy(&c, theirs.data(), std::min<std::size_t>(theirs.size(), 4));
    worst = std::max(worst, c);
  }
  if (!mine.ok())
    return make_error(mine.code(),
                      fmt::format("hierarchical all-reduce on rank {}: cannot split into host "
                                  "groups: {}",
                                  comm.rank(), mine.to_string()));
  if (worst != 0)
    return make_error(static_cast<StatusCode>(worst),
                      fmt::format("hierarchical all-reduce on rank {}: another rank could not "
                                  "split into host groups ({})",
                                  comm.rank(), to_string(static_cast<StatusCode>(worst))));
  return {};
}

// The leader tells its group whether the leaders' tree can run the switch
// step and what it aggregates; the others only learn the status code. Out of
// band, as agree().
Status share_switch_step(HierarchicalState& state, int rank) {
  std::array<std::uint32_t, 3> word{};
  if (state.leader) {
    const Status& s = state.leaders->innet_status();
    const SwitchCaps caps = state.leaders->caps();
    word = {static_cast<std::uint32_t>(s.code()), caps.dtypes, caps.ops};
    state.switch_status = s;
  }
  auto all = state.group->out_of_band_allgather(
      std::string(reinterpret_cast<const char*>(word.data()), sizeof(word)));
  if (!all.ok()) return all.status();
  const std::string& leader = (*all)->at(0);
  std::memcpy(word.data(), leader.data(), std::min(sizeof(word), leader.size()));
  state.switch_caps = {word[1], word[2]};
  if (!state.leader && word[0] != 0)
    state.switch_status =
        make_error(static_cast<StatusCode>(word[0]),
                   fmt::format("rank {}'s group leader has no tree for the switch step ({})", rank,
                               to_string(static_cast<StatusCode>(word[0]))));
  return {};
}

// Leaders first: their tree crosses the spines, which the groups' trees
// (unused: groups reduce on hosts) could otherwise fill.
Status split_groups(Communicator& comm, std::uint32_t g, HierarchicalState& state) {
  const auto rank = static_cast<std::uint32_t>(comm.rank());
  state.group_size = g;
  state.leader = rank % g == 0;
  auto leaders = comm.split(state.leader ? 0 : -1, comm.rank());
  auto group = comm.split(static_cast<int>(rank / g), comm.rank());
  INCA_RETURN_IF_ERROR(agree(comm, leaders.ok() ? group.status() : leaders.status()));
  state.leaders = std::move(*leaders);
  state.group = std::move(*group);
  return share_switch_step(state, comm.rank());
}

}  // namespace

std::uint32_t hierarchical_group_size(const ModelFabric* model) {
  return model && model->group > 0 ? model->group : kDefaultHierarchicalGroup;
}

Status hierarchical_prepare(Communicator& comm) {
  const std::uint32_t g = group_size(comm);
  const auto p = static_cast<std::uint32_t>(comm.size());
  if (g <= 1 || g >= p) return {};
  // G is a fabric option, fixed for the communicator's life: groups made
  // once never go stale.
  return split_once<HierarchicalState>(
      comm, kName, "hierarchical all-reduce",
      [&](HierarchicalState& state) { return split_groups(comm, g, state); });
}

Status hierarchical_allreduce(Communicator& comm, const AllreduceArgs& a) {
  const std::uint32_t g = group_size(comm);
  if (comm.size() == 1) {
    if (!comm.timing_only() && a.count > 0 && a.send != a.recv)
      std::memcpy(a.recv, a.send, a.count * dtype_size(a.dtype));
    return {};
  }
  // Degenerate groups: each rank alone is the flat switch all-reduce, one
  // group of everyone is the binomial tree.
  if (g <= 1) return innet_allreduce(comm, a);
  if (g >= static_cast<std::uint32_t>(comm.size())) return binomial_tree_allreduce(comm, a);
  auto* state = static_cast<HierarchicalState*>(comm.algorithm_state(kName).get());
  if (!state || !state->ready)
    return make_error(StatusCode::internal,
                      fmt::format("hierarchical all-reduce on rank {}: run without its set-up "
                                  "(AllreduceAlgorithm::prepare)",
                                  comm.rank()));
  if (!state->switch_status.ok())
    return make_error(StatusCode::not_supported,
                      fmt::format("hierarchical all-reduce on rank {}: the leaders' switch step "
                                  "is unavailable: {}",
                                  comm.rank(), state->switch_status.to_string()));
  if (!state->switch_caps.supports(a.dtype, a.op))
    return make_error(StatusCode::not_supported,
                      fmt::format("hierarchical all-reduce on rank {}: the leaders' switches do "
                                  "not aggregate {} {} (they aggregate {})",
                                  comm.rank(), to_string(a.dtype), to_string(a.op),
                                  state->switch_caps.describe()));
  Communicator& group = *state->group;
  // The leader accumulates in its receive buffer; the others' receive buffer
  // is written only by the broadcast, so send stays untouched (or, in place,
  // is read before it is overwritten).
  INCA_RETURN_IF_ERROR(group.reduce(a.send, state->leader ? a.recv : nullptr, a.count, a.dtype,
                                    a.op, 0, by_host(Collective::reduce, a.reproducible)));
  if (state->leader)
    INCA_RETURN_IF_ERROR(
        state->leaders->innet_allreduce(a.recv, a.recv, a.count, a.dtype, a.op, a.reproducible));
  return group.broadcast(a.recv, a.count, a.dtype, 0,
                         by_host(Collective::broadcast, a.reproducible));
}

}  // namespace inca::algorithms
