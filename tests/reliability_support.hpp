// Helpers of the reliability tests (faults, recovery, isolation, mismatches):
// one all-reduce on every rank of a world with inputs whose reduction is exact
// in any order, and what each rank got.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "inca/communicator.hpp"
#include "inca/world.hpp"
#include "test_support.hpp"

namespace inca::test {

struct RankOutcome {
  Status status;
  std::string difference;  ///< "" when the result equals the reference
  std::string algorithm;   ///< what ran (Communicator::last_algorithm)
  std::string note;
  Time finished = 0;
};

struct AllreduceRun {
  std::vector<RankOutcome> ranks;
  Status run;  ///< World::run's own status
  Time started = 0;

  /// "" when every rank returned ok with the exact result, else the first problem.
  std::string exact() const {
    if (!run.ok()) return "run: " + run.to_string();
    for (std::size_t r = 0; r < ranks.size(); ++r) {
      if (!ranks[r].status.ok())
        return "rank " + std::to_string(r) + ": " + ranks[r].status.to_string();
      if (!ranks[r].difference.empty())
        return "rank " + std::to_string(r) + ": " + ranks[r].difference;
    }
    return "";
  }
  Time last_finish() const {
    Time t = 0;
    for (const RankOutcome& r : ranks) t = std::max(t, r.finished);
    return t;
  }
};

/// Per-rank arguments of one all-reduce (tests of mismatched calls vary them).
struct RankArgs {
  std::size_t count = 1000;
  Dtype dtype = Dtype::f32;
  ReduceOp op = ReduceOp::sum;
};

/// One all-reduce of exact_input() on every rank; each rank's result is
/// compared with the reference reduction of the arguments rank 0 used.
inline AllreduceRun run_allreduce(World& world, const std::string& algorithm,
                                  const std::function<RankArgs(std::uint32_t)>& args_of) {
  const std::uint32_t n = world.size();
  const RankArgs a0 = args_of(0);
  std::vector<Bytes> inputs;
  for (std::uint32_t r = 0; r < n; ++r) inputs.push_back(exact_input(a0.count, a0.dtype, a0.op, r));
  const Bytes want = fold_in_rank_order(inputs, a0.count, a0.dtype, a0.op);
  AllreduceRun out;
  out.ranks.resize(n);
  out.started = world.now();
  out.run = world.run([&](Communicator& comm) {
    const auto r = static_cast<std::uint32_t>(comm.rank());
    const RankArgs a = args_of(r);
    Bytes send = exact_input(a.count, a.dtype, a.op, r);
    Bytes recv(send.size());
    RankOutcome& o = out.ranks[r];
    o.status =
        comm.allreduce(send.data(), recv.data(), a.count, a.dtype, a.op, {.algorithm = algorithm});
    o.finished = comm.now();
    o.algorithm = comm.last_algorithm();
    o.note = comm.last_note();
    if (o.status.ok()) o.difference = first_difference(recv, want, dtype_size(a0.dtype));
  });
  return out;
}

inline AllreduceRun run_allreduce(World& world, const std::string& algorithm, std::size_t count,
                                  Dtype dtype = Dtype::f32, ReduceOp op = ReduceOp::sum) {
  return run_allreduce(world, algorithm, [&](std::uint32_t) { return RankArgs{count, dtype, op}; });
}

/// Two leaves of `per_leaf` hosts under two spines, 100 Gb/s, with `faults`.
inline FabricOptions lossy_fabric(std::uint32_t ranks, std::uint32_t per_leaf,
                                  const FaultPlan& faults) {
  FabricOptions o = small_fabric(TopologyKind::leaf_spine, ranks, per_leaf);
  o.window = 16;
  o.faults = faults;
  return o;
}

}  // namespace inca::test
