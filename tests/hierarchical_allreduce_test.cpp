// The hierarchical (CollNet-style) all-reduce: exact against a reference
// reduction for many rank counts and group sizes, dtypes, ops and in place;
// its set-up splits once and is reused; every rank refuses alike when the
// leaders have no tree, their switches lack the pair, or one rank cannot
// split; it runs payload-free; its model against the simulator.
// (bench_sweep_test.cpp sweeps it in `inca bench`.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "algorithms/hierarchical_allreduce.hpp"
#include "inca/communicator.hpp"
#include "inca/world.hpp"
#include "test_support.hpp"

namespace inca {
namespace {

using test::Bytes;

using Pair = std::pair<Dtype, ReduceOp>;
const Pair kPairs[] = {{Dtype::f32, ReduceOp::sum},
                       {Dtype::i32, ReduceOp::max},
                       {Dtype::u8, ReduceOp::bor},
                       {Dtype::f64, ReduceOp::min}};

// Leaves of 4 hosts, so that groups of 3 and 8 straddle leaves.
FabricOptions fabric(std::uint32_t ranks, std::uint32_t group) {
  FabricOptions o = test::small_fabric(TopologyKind::leaf_spine, ranks, 4);
  o.hierarchical_group = group;
  return o;
}

// Runs `rank_main` on every rank; each returns "" or what went wrong.
void expect_no_errors(World& world, const std::function<std::string(Communicator&)>& rank_main) {
  std::vector<std::string> errors(world.size());
  Status run = world.run([&](Communicator& comm) { errors[comm.rank()] = rank_main(comm); });
  ASSERT_TRUE(run.ok()) << run.to_string();
  for (std::size_t r = 0; r < errors.size(); ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

// "" when a hierarchical all-reduce of `count` elements (in place or not)
// gives the reference reduction and leaves send alone.
std::string allreduce_exact(Communicator& comm, std::size_t count, Pair pair, bool in_place) {
  std::vector<Bytes> inputs;
  for (int r = 0; r < comm.size(); ++r)
    inputs.push_back(
        test::exact_input(count, pair.first, pair.second, static_cast<std::uint32_t>(r)));
  const Bytes want = test::fold_in_rank_order(inputs, count, pair.first, pair.second);
  Bytes send = inputs[comm.rank()];
  Bytes recv(send.size(), std::byte{0x5a});
  Bytes& out = in_place ? send : recv;
  const std::string what = std::string(to_string(pair.first)) + " " +
                           std::string(to_string(pair.second)) + " x " + std::to_string(count) +
                           (in_place ? " in place" : "");
  Status s = comm.allreduce(send.data(), out.data(), count, pair.first, pair.second,
                            {.algorithm = "hierarchical"});
  if (!s.ok()) return what + ": " + s.to_string();
  if (comm.last_algorithm() != "hierarchical") return what + " ran " + comm.last_algorithm();
  std::string diff = test::first_difference(out, want, dtype_size(pair.first));
  if (!diff.empty()) return what + ": " + diff;
  if (!in_place && send != inputs[comm.rank()]) return what + ": send changed";
  return "";
}

using Case = std::tuple<std::uint32_t, std::uint32_t>;  // ranks, group size

class HierarchicalAllreduce : public ::testing::TestWithParam<Case> {};

TEST_P(HierarchicalAllreduce, ExactForEveryPairCountAndInPlace) {
  const auto [ranks, group] = GetParam();
  auto world = test::make_world(fabric(ranks, group));
  ASSERT_TRUE(world);
  expect_no_errors(*world, [&](Communicator& comm) {
    std::string errors;
    for (const Pair& pair : kPairs)
      for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{37}, std::size_t{1031}})
        for (bool in_place : {false, true}) errors += allreduce_exact(comm, count, pair, in_place);
    return errors;
  });
}

// Group 0 is the hosts of one leaf (4 here); 100 is more than any rank count.
INSTANTIATE_TEST_SUITE_P(RanksAndGroups, HierarchicalAllreduce,
                         testing::Combine(testing::Values(1u, 2u, 3u, 5u, 8u, 64u),
                                          testing::Values(0u, 1u, 2u, 3u, 8u, 100u)),
                         [](const auto& info) {
                           return fmt::format("p{}_g{}", std::get<0>(info.param),
                                              std::get<1>(info.param));
                         });

// Sums of fractions depend on the order. Packets held back at random
// shuffle arrivals differently per seed; reproducible mode fixes the order in
// the switches, and the binomial groups always fold in one order, so every
// seed gives every rank the same bits.
TEST(Hierarchical, ReproducibleFloatSumsAreBitIdenticalUnderShuffledArrivals) {
  constexpr std::uint32_t kRanks = 12;
  constexpr std::size_t kCount = 700;
  std::vector<float> first;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    FabricOptions o = fabric(kRanks, 3);
    o.faults.seed = seed;
    o.faults.every_link.reorder = 0.3;
    o.faults.every_link.reorder_delay = 3 * kPicosPerMicro;
    auto world = test::make_world(o);
    ASSERT_TRUE(world);
    std::vector<std::vector<float>> results(kRanks);
    expect_no_errors(*world, [&](Communicator& comm) -> std::string {
      std::vector<float> send(kCount), recv(kCount);
      for (std::size_t i = 0; i < kCount; ++i)
        send[i] = 0.1f * static_cast<float>(comm.rank() + 1) / static_cast<float>(i + 3);
      Status s = comm.allreduce(send.data(), recv.data(), kCount, Dtype::f32, ReduceOp::sum,
                                {.algorithm = "hierarchical", .reproducible = true});
      results[comm.rank()] = recv;
      return s.ok() ? "" : s.to_string();
    });
    EXPECT_GT(world->stats().fault_reordered, 0u);
    if (first.empty()) first = results[0];
    for (std::uint32_t r = 0; r < kRanks; ++r)
      EXPECT_EQ(results[r], first) << "seed " << seed << " rank " << r;
  }
}

TEST(Hierarchical, SplitsOnceAndReusesTheGroups) {
  auto world = test::make_world(fabric(8, 3));
  ASSERT_TRUE(world);
  expect_no_errors(*world, [&](Communicator& comm) -> std::string {
    const std::shared_ptr<void>& slot = comm.algorithm_state("hierarchical");
    if (slot) return "state before the first call";
    std::string errors = allreduce_exact(comm, 100, kPairs[0], false);
    auto* state = static_cast<algorithms::HierarchicalState*>(slot.get());
    if (!state || !state->group) return errors + "no groups after the first call";
    const Communicator* group = state->group.get();
    const Communicator* leaders = state->leaders.get();
    // Ranks 0-2, 3-5, 6-7; leaders 0, 3 and 6 hold the leaders' sub-communicator.
    const int r = comm.rank();
    if (state->group_size != 3 || group->size() != (r < 6 ? 3 : 2) || group->rank() != r % 3 ||
        state->leader != (r % 3 == 0) || (leaders != nullptr) != state->leader ||
        (leaders && (leaders->size() != 3 || leaders->rank() != r / 3)))
      errors += "groups not as expected; ";
    errors += allreduce_exact(comm, 100, kPairs[1], true);
    if (slot.get() != state || state->group.get() != group || state->leaders.get() != leaders)
      errors += "the second call split again; ";
    return errors;
  });
}

// A non-blocking first call sets the groups up before it returns (blocking,
// in start order), so that other collectives started right after it, and a
// second hierarchical one, keep the same order on every rank; all are exact.
// Hierarchical calls take the world's tree one at a time, so their inner
// sub-communicator collectives never interleave.
TEST(Hierarchical, NonBlockingFirstCallSetsUpBeforeItReturns) {
  auto world = test::make_world(fabric(8, 3));
  ASSERT_TRUE(world);
  expect_no_errors(*world, [&](Communicator& comm) -> std::string {
    std::vector<std::int32_t> a(40, comm.rank() + 1), b(40, 1), out(40), c(40, 2), c_out(40);
    const AllreduceOptions options{.algorithm = "hierarchical"};
    auto first = comm.iallreduce(a.data(), a.data(), a.size(), Dtype::i32, ReduceOp::sum, options);
    if (!first.ok()) return "first: " + first.status().to_string();
    auto host = comm.iallreduce(c.data(), c_out.data(), c.size(), Dtype::i32, ReduceOp::sum,
                                {.algorithm = "recursive_doubling"});
    auto barrier = comm.ibarrier();
    auto second =
        comm.iallreduce(b.data(), out.data(), b.size(), Dtype::i32, ReduceOp::sum, options);
    std::string errors;
    if (!host.ok() || !barrier.ok() || !second.ok()) {
      // Wait for what did start: its buffers die with this function.
      for (auto* r : {&first, &host, &barrier, &second})
        if (r->ok()) (void)comm.wait(**r);
      return "a start failed: " + second.status().to_string();
    }
    Status s = comm.wait(*second);
    if (!s.ok() || out != std::vector<std::int32_t>(40, 8)) errors += "second: " + s.to_string();
    s = comm.wait(*barrier);
    if (!s.ok()) errors += "barrier: " + s.to_string();
    s = comm.wait(*host);
    if (!s.ok() || c_out != std::vector<std::int32_t>(40, 16)) errors += "host: " + s.to_string();
    s = comm.wait(*first);
    if (!s.ok() || a != std::vector<std::int32_t>(40, 36)) errors += "first: " + s.to_string();
    return errors;
  });
}

// Every rank gets the same code, so none waits for a peer that gave up.
void expect_all_fail(World& world, StatusCode code, const std::string& needle, Pair pair) {
  expect_no_errors(world, [&](Communicator& comm) -> std::string {
    Bytes send = test::exact_input(64, pair.first, pair.second, comm.rank()), recv(send.size());
    Status s = comm.allreduce(send.data(), recv.data(), 64, pair.first, pair.second,
                              {.algorithm = "hierarchical"});
    if (s.code() != code || s.message().find(needle) == std::string::npos)
      return "got " + s.to_string();
    return "";
  });
}

TEST(Hierarchical, NotSupportedWhenTheLeadersHaveNoTree) {
  FabricOptions o = fabric(8, 2);
  o.switch_slots = o.window;  // the world's tree takes every slot
  auto world = test::make_world(o);
  ASSERT_TRUE(world);
  expect_all_fail(*world, StatusCode::not_supported, "switch step is unavailable", kPairs[0]);
}

TEST(Hierarchical, NotSupportedWhenTheLeadersSwitchesLackThePair) {
  FabricOptions o = fabric(8, 2);
  o.switch_caps = SwitchCaps{}.without(Dtype::f32);
  auto world = test::make_world(o);
  ASSERT_TRUE(world);
  expect_all_fail(*world, StatusCode::not_supported, "do not aggregate f32 sum", kPairs[0]);
  // The groups stay usable for what the switches do aggregate.
  expect_no_errors(*world,
                   [&](Communicator& comm) { return allreduce_exact(comm, 50, kPairs[1], false); });
}

// split() and the set-up's agreement travel out of band where messages
// carry no data, so the groups form payload-free too.
TEST(Hierarchical, RunsPayloadFree) {
  FabricOptions o = fabric(8, 2);
  o.timing_only = true;
  auto world = test::make_world(o);
  ASSERT_TRUE(world);
  expect_no_errors(*world, [&](Communicator& comm) -> std::string {
    Status s = comm.allreduce(nullptr, nullptr, 64, Dtype::f32, ReduceOp::sum,
                              {.algorithm = "hierarchical"});
    if (!s.ok()) return s.to_string();
    auto* state =
        static_cast<algorithms::HierarchicalState*>(comm.algorithm_state("hierarchical").get());
    if (!state || !state->group) return "no groups";
    if (comm.rank() % 2 == 0 && !state->leaders) return "a leader without the leaders";
    return comm.last_algorithm() == "hierarchical" ? "" : "ran " + comm.last_algorithm();
  });
}

// Rank 1 alone holds every sub-communicator it may: its group cannot split,
// the others can, and all of them return no_resource rather than wait.
TEST(Hierarchical, OneRankUnableToSplitFailsEveryRankAlike) {
  auto world = test::make_world(fabric(8, 2));
  ASSERT_TRUE(world);
  expect_no_errors(*world, [&](Communicator& comm) -> std::string {
    std::vector<std::unique_ptr<Communicator>> held;
    for (int i = 0; i < Communicator::kMaxSubCommunicators; ++i) {
      auto sub = comm.split(comm.rank() == 1 ? 0 : -1, 0);
      if (!sub.ok()) return "split: " + sub.status().to_string();
      held.push_back(std::move(*sub));
    }
    Bytes send = test::exact_input(16, Dtype::i32, ReduceOp::sum, comm.rank()), recv(send.size());
    Status s = comm.allreduce(send.data(), recv.data(), 16, Dtype::i32, ReduceOp::sum,
                              {.algorithm = "hierarchical"});
    if (s.code() != StatusCode::no_resource) return "got " + s.to_string();
    if (comm.algorithm_state("hierarchical")) return "kept a failed set-up";
    held.clear();  // the set-up is tried again and now fits
    return allreduce_exact(comm, 16, {Dtype::i32, ReduceOp::sum}, false);
  });
}

// Virtual time is deterministic: the bound is a property of the model.
TEST(Hierarchical, ModelWithinTwoPercentOfTheSimulator) {
  auto world = test::make_world(FabricOptions{});  // 64 ranks, 8 per leaf: G = 8
  ASSERT_TRUE(world);
  constexpr std::size_t kBytes = 256 << 10;
  std::vector<Time> start(64), finish(64);
  std::vector<float> data(kBytes / 4, 1.0f);
  expect_no_errors(*world, [&](Communicator& comm) -> std::string {
    std::vector<float> buf(data);
    const AllreduceOptions options{.algorithm = "hierarchical"};
    // The first call splits; the second is the collective alone.
    Status s =
        comm.allreduce(buf.data(), buf.data(), buf.size(), Dtype::f32, ReduceOp::sum, options);
    if (s.ok()) s = comm.barrier();
    start[comm.rank()] = comm.now();
    if (s.ok())
      s = comm.allreduce(data.data(), buf.data(), buf.size(), Dtype::f32, ReduceOp::sum, options);
    finish[comm.rank()] = comm.now();
    if (!s.ok()) return s.to_string();
    return buf == std::vector<float>(buf.size(), 64.0f) ? "" : "wrong sum";
  });
  const double simulated = static_cast<double>(*std::max_element(finish.begin(), finish.end()) -
                                               *std::min_element(start.begin(), start.end()));
  const auto model = model_allreduce("hierarchical", world->model_fabric(), kBytes, 4);
  ASSERT_TRUE(model);
  EXPECT_NEAR(simulated / static_cast<double>(*model), 1.0, 0.02);
}

}  // namespace
}  // namespace inca
