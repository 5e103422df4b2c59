// The set-up of algorithms that split their communicator once and keep the
// sub-communicators for later calls (hierarchical, two_tier): their state
// lives in Communicator::algorithm_state(name) and says when it is ready.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "inca/communicator.hpp"

namespace inca::algorithms {

/// Runs `split` on a new State (which has `bool ready`) kept under `name`,
/// once per communicator: ok at once when a ready State is there; on error
/// the State is dropped, so the next call tries again. `what` names the
/// algorithm in the error a call meets while another is still splitting.
template <class State>
Status split_once(Communicator& comm, const std::string& name, const std::string& what,
                  const std::function<Status(State&)>& split) {
  std::shared_ptr<void>& slot = comm.algorithm_state(name);
  if (slot) {
    if (static_cast<const State*>(slot.get())->ready) return {};
    return make_error(StatusCode::not_supported,
                      fmt::format("{0} on rank {1}: another call is still setting up this "
                                  "communicator's sub-communicators (start the first {0} call "
                                  "from the rank program)",
                                  what, comm.rank()));
  }
  auto state = std::make_shared<State>();
  // Claimed before the splits block: a non-blocking call started meanwhile
  // must not split a second time.
  slot = state;
  Status s = split(*state);
  if (s.ok())
    state->ready = true;
  else
    comm.algorithm_state(name).reset();
  return s;
}

}  // namespace inca::algorithms
