// A switch of the tree dies in the middle of an all-reduce. Per policy the
// collective completes exactly on a re-formed tree (reform), completes with a
// host algorithm (fallback), or fails with `timeout` (error), always within
// the bound docs/reliability.md gives, and the next collective works.
#include <gtest/gtest.h>

#include "reliability_support.hpp"

namespace inca {
namespace {

using test::run_allreduce;

constexpr std::uint32_t kRanks = 8;
constexpr std::size_t kCount = 200000;  // f32, 800 KB: about 70 us loss-free
constexpr Time kKill = 20 * kPicosPerMicro;

FabricOptions fabric_with(const FaultPlan& faults, SwitchFailurePolicy policy) {
  FabricOptions o = test::lossy_fabric(kRanks, 4, faults);
  o.recovery.on_switch_failure = policy;
  return o;
}

FaultPlan kill(const std::string& name, Time at, Time back = kNever) {
  FaultPlan plan;
  plan.switch_outages.push_back({name, at, back});
  return plan;
}

// Detection (failure_timeout after a chunk's first send, plus one capped
// retransmission interval), agreement and the re-run all fit in this bound
// on this small fabric; docs/reliability.md derives it.
constexpr Time kBound = kKill + 100 * kPicosPerMilli + 5 * kPicosPerMilli;

TEST(SwitchFailure, TheWorldTreeIsRootedAtSpine1) {
  auto world = test::make_world(fabric_with({}, SwitchFailurePolicy::reform));
  ASSERT_TRUE(world);
  EXPECT_NE(world->describe().find("root spine1"), std::string::npos) << world->describe();
}

TEST(SwitchFailure, ReformPolicyCompletesExactlyOnATreeAroundTheDeadRoot) {
  auto world = test::make_world(fabric_with(kill("spine1", kKill), SwitchFailurePolicy::reform));
  ASSERT_TRUE(world);
  const auto out = run_allreduce(*world, "innet", kCount);
  EXPECT_EQ(out.exact(), "");
  EXPECT_LE(out.last_finish(), kBound);
  EXPECT_EQ(out.ranks[0].algorithm, "innet");
  EXPECT_NE(out.ranks[0].note.find("re-formed the tree"), std::string::npos) << out.ranks[0].note;
  WorldStats s = world->stats();
  EXPECT_EQ(s.collectives_failed, 1u);
  EXPECT_EQ(s.trees_reformed, 1u);
  EXPECT_EQ(s.reruns, 1u);
  EXPECT_EQ(s.fallbacks, 0u);
  EXPECT_EQ(s.host_timeouts, kRanks);
  EXPECT_GT(s.fault_switch_down_drops, 0u);
  EXPECT_NE(world->describe().find("root spine0"), std::string::npos) << world->describe();

  // The communicator stays usable: the next one runs on the new tree at once.
  const auto next = run_allreduce(*world, "auto", kCount, Dtype::i32, ReduceOp::max);
  EXPECT_EQ(next.exact(), "");
  EXPECT_EQ(next.ranks[0].algorithm, "innet");
  EXPECT_LT(next.last_finish() - next.started, kPicosPerMilli);
  EXPECT_EQ(world->stats().reruns, 1u);
}

TEST(SwitchFailure, FallbackPolicyCompletesExactlyWithTheRing) {
  auto world = test::make_world(fabric_with(kill("spine1", kKill), SwitchFailurePolicy::fallback));
  ASSERT_TRUE(world);
  const auto out = run_allreduce(*world, "innet", kCount);
  EXPECT_EQ(out.exact(), "");
  EXPECT_LE(out.last_finish(), kBound);
  EXPECT_EQ(out.ranks[0].algorithm, "ring");
  EXPECT_NE(out.ranks[0].note.find("re-ran with ring"), std::string::npos) << out.ranks[0].note;
  EXPECT_EQ(world->stats().fallbacks, 1u);
  // Later collectives use the re-formed tree.
  const auto next = run_allreduce(*world, "innet", 5000);
  EXPECT_EQ(next.exact(), "");
}

TEST(SwitchFailure, ErrorPolicyFailsEveryRankWithinTheBoundThenRecovers) {
  auto world = test::make_world(fabric_with(kill("spine1", kKill), SwitchFailurePolicy::error));
  ASSERT_TRUE(world);
  const auto out = run_allreduce(*world, "innet", kCount);
  for (const test::RankOutcome& r : out.ranks) {
    EXPECT_EQ(r.status.code(), StatusCode::timeout) << r.status.to_string();
    EXPECT_NE(r.status.message().find("got no result"), std::string::npos);
    EXPECT_NE(r.note.find("policy 'error'"), std::string::npos) << r.note;
  }
  EXPECT_LE(out.last_finish(), kBound);
  EXPECT_EQ(world->stats().reruns, 0u);
  const auto next = run_allreduce(*world, "innet", kCount);
  EXPECT_EQ(next.exact(), "");
}

TEST(SwitchFailure, ADeadLeafCutsItsHostsOffAndEveryRankGetsAnErrorInBoundedTime) {
  FabricOptions o = fabric_with(kill("leaf0", kKill), SwitchFailurePolicy::reform);
  auto world = test::make_world(o);
  ASSERT_TRUE(world);
  const auto out = run_allreduce(*world, "innet", kCount);
  for (std::uint32_t r = 0; r < kRanks; ++r)
    EXPECT_FALSE(out.ranks[r].status.ok()) << "rank " << r << " cannot have the result";
  // Every attempt (the first and max_reruns re-runs) ends within its
  // detection and agreement windows.
  const Time per_attempt = 100 * kPicosPerMilli + 200 * kPicosPerMilli + 5 * kPicosPerMilli;
  EXPECT_LE(out.last_finish(), kKill + 3 * per_attempt);
  EXPECT_NE(world->innet_status().code(), StatusCode::ok);  // no tree reaches leaf0's hosts
}

TEST(SwitchFailure, ASwitchThatRestartsHasLostItsStateAndTheTreeIsRebuilt) {
  auto world = test::make_world(
      fabric_with(kill("spine1", kKill, 50 * kPicosPerMilli), SwitchFailurePolicy::reform));
  ASSERT_TRUE(world);
  const auto out = run_allreduce(*world, "innet", kCount);
  EXPECT_EQ(out.exact(), "");
  const WorldStats s = world->stats();
  EXPECT_EQ(s.reruns, 1u);
  EXPECT_GE(s.fault_switch_state_losses, 1u);
  // Back up but empty, it dropped the old tree's retransmissions as unknown.
  EXPECT_GT(s.switch_drop_unknown_tree, 0u);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(run_allreduce(*world, "innet", kCount).exact(), "");
}

TEST(SwitchFailure, AStandaloneSwitchPrimitiveFailsButTheNextCollectiveGetsANewTree) {
  auto world = test::make_world(fabric_with(kill("spine1", 0), SwitchFailurePolicy::reform));
  ASSERT_TRUE(world);
  // spine1 is dead from the start, so the first tree already avoids it.
  EXPECT_NE(world->describe().find("root spine0"), std::string::npos) << world->describe();
  auto world2 = test::make_world(fabric_with(kill("spine1", kKill), SwitchFailurePolicy::reform));
  ASSERT_TRUE(world2);
  std::vector<Status> got(kRanks);
  ASSERT_TRUE(world2
                  ->run([&](Communicator& comm) {
                    std::vector<float> x(kCount, 1.0f), y(kCount);
                    got[comm.rank()] =
                        comm.innet_allreduce(x.data(), y.data(), kCount, Dtype::f32, ReduceOp::sum);
                  })
                  .ok());
  for (const Status& s : got) EXPECT_EQ(s.code(), StatusCode::timeout) << s.to_string();
  EXPECT_EQ(world2->stats().trees_reformed, 1u);
  EXPECT_EQ(run_allreduce(*world2, "innet", kCount).exact(), "");
}

}  // namespace
}  // namespace inca
