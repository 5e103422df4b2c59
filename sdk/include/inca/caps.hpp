// What a switch can aggregate. Switches differ: SHARP's older ASICs lack
// bf16, CollNet offers only sum/min/max, a P4 switch has no floating point.
// Each switch of a fabric carries a SwitchCaps (FabricOptions::switch_caps),
// a tree can aggregate what all its switches can, and a communicator asks
// Communicator::caps() before it sends anything to them.
#pragma once

#include <cstdint>
#include <string>

#include "inca/dtype.hpp"

namespace inca {

/// A set of dtypes and a set of ops; a pair is aggregated when both are in.
/// Bit n of each mask stands for the dtype / op whose wire code is n.
struct SwitchCaps {
  std::uint32_t dtypes = ~0u;
  std::uint32_t ops = ~0u;

  /// Nothing at all (a communicator without a tree).
  static SwitchCaps none() { return {0, 0}; }
  /// True when `dtype` and `op` are both in the sets and form a valid pair.
  bool supports(Dtype dtype, ReduceOp op) const;
  /// This set without `dtype` / `op`.
  SwitchCaps without(Dtype dtype) const;
  SwitchCaps without(ReduceOp op) const;
  /// What two switches can both aggregate.
  SwitchCaps operator&(const SwitchCaps& other) const;
  bool operator==(const SwitchCaps&) const = default;
  /// "all dtypes and ops", or the lists, e.g. "dtypes i8 u8 ... f32; ops sum min max".
  std::string describe() const;
};

}  // namespace inca
