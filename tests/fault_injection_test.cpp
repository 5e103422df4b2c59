// Fault injection on the simulated fabric, end to end: lost, duplicated,
// reordered and corrupted packets at every level of a two-level tree and on
// the host algorithms' point-to-point paths; links that go down and up. Every
// collective must end exact, and the counters must show the repair.
#include <gtest/gtest.h>

#include "reliability_support.hpp"

namespace inca {
namespace {

using test::lossy_fabric;
using test::run_allreduce;

// 8 ranks, two leaves of 4; the world's tree 1 is rooted at spine1.
constexpr std::uint32_t kRanks = 8;
constexpr std::uint32_t kPerLeaf = 4;
constexpr std::size_t kCount = 20000;  // f32: 40 chunks of 512 per host

std::vector<NodeFaults> every_host(const LinkFaults& f) {
  std::vector<NodeFaults> out;
  for (std::uint32_t h = 0; h < kRanks; ++h) out.push_back({"host" + std::to_string(h), f});
  return out;
}

std::vector<LinkFaultRule> leaf_spine_links(const LinkFaults& f) {
  std::vector<LinkFaultRule> out;
  for (const char* leaf : {"leaf0", "leaf1"})
    for (const char* spine : {"spine0", "spine1"}) out.push_back({leaf, spine, f});
  return out;
}

TEST(FaultInjection, LossBetweenHostsAndLeavesIsAnsweredFromTheKeptResult) {
  FaultPlan plan;
  plan.nodes = every_host({.drop = 0.05});
  auto world = test::make_world(lossy_fabric(kRanks, kPerLeaf, plan));
  ASSERT_TRUE(world);
  ASSERT_EQ(world->tree_levels(), 2u);
  const auto out = run_allreduce(*world, "innet", kCount);
  EXPECT_EQ(out.exact(), "");
  const WorldStats s = world->stats();
  EXPECT_GT(s.fault_dropped, 0u);
  EXPECT_GT(s.host_innet_retransmissions, 0u);
  // A host whose result was lost is answered by its leaf, from the shadow copy.
  EXPECT_GT(s.switch_duplicate_answers, 0u);
  EXPECT_EQ(s.host_timeouts, 0u);
  EXPECT_EQ(s.reruns, 0u);
}

TEST(FaultInjection, LossBetweenLeavesAndTheRootIsRepairedByReforwardedPartials) {
  FaultPlan plan;
  plan.links = leaf_spine_links({.drop = 0.05});
  auto world = test::make_world(lossy_fabric(kRanks, kPerLeaf, plan));
  ASSERT_TRUE(world);
  const auto out = run_allreduce(*world, "innet", kCount);
  EXPECT_EQ(out.exact(), "");
  const WorldStats s = world->stats();
  EXPECT_GT(s.fault_dropped, 0u);
  // A lost partial or root result makes the leaf resend its partial upward;
  // the root aggregates it or answers from its kept result.
  EXPECT_GT(s.switch_partial_reforwards, 0u);
  EXPECT_GT(s.switch_duplicates, 0u);
  EXPECT_EQ(s.reruns, 0u);
}

TEST(FaultInjection, DuplicatedReorderedAndCorruptedPacketsLeaveEveryAlgorithmExact) {
  FaultPlan plan;
  plan.seed = 11;
  plan.every_link = {.drop = 0.01, .duplicate = 0.03, .reorder = 0.05, .corrupt = 0.02};
  auto world = test::make_world(lossy_fabric(kRanks, kPerLeaf, plan));
  ASSERT_TRUE(world);
  for (const char* algorithm :
       {"innet", "ring", "rabenseifner", "recursive_doubling", "binomial_tree"}) {
    for (Dtype dtype : {Dtype::f32, Dtype::i64, Dtype::bf16}) {
      const auto out = run_allreduce(*world, algorithm, 7777, dtype, ReduceOp::sum);
      EXPECT_EQ(out.exact(), "") << algorithm << " " << to_string(dtype);
    }
  }
  const WorldStats s = world->stats();
  EXPECT_GT(s.fault_duplicated, 0u);
  EXPECT_GT(s.fault_reordered, 0u);
  EXPECT_GT(s.fault_corrupted, 0u);
  // 1 to 3 flipped bits never pass CRC-32: every corrupted packet is dropped.
  EXPECT_EQ(s.fault_corrupt_detected, s.fault_corrupted);
  EXPECT_EQ(s.fault_corrupt_undetected, 0u);
  EXPECT_GT(s.host_p2p_duplicates, 0u);
  EXPECT_GT(s.host_p2p_retransmissions, 0u);
  EXPECT_EQ(s.reruns, 0u);
}

TEST(FaultInjection, PayloadFreePacketsAreCorruptedAndCaughtToo) {
  FaultPlan plan;
  plan.every_link.corrupt = 0.05;
  FabricOptions o = lossy_fabric(kRanks, kPerLeaf, plan);
  o.timing_only = true;
  auto world = test::make_world(o);
  ASSERT_TRUE(world);
  Status got;
  ASSERT_TRUE(world
                  ->run([&](Communicator& comm) {
                    Status s = comm.allreduce(nullptr, nullptr, kCount, Dtype::f32, ReduceOp::sum,
                                              {.algorithm = "innet"});
                    if (comm.rank() == 0) got = s;
                  })
                  .ok());
  EXPECT_TRUE(got.ok()) << got.to_string();
  EXPECT_GT(world->stats().fault_corrupt_detected, 0u);
}

WorldStats stats_of_a_lossy_run(std::uint64_t seed, Time* finished) {
  FaultPlan plan;
  plan.seed = seed;
  plan.every_link = {.drop = 0.02, .duplicate = 0.01, .reorder = 0.02};
  auto world = test::make_world(lossy_fabric(kRanks, kPerLeaf, plan));
  if (!world) return {};
  const auto innet = run_allreduce(*world, "innet", kCount);
  const auto ring = run_allreduce(*world, "ring", kCount);
  EXPECT_EQ(innet.exact(), "");
  EXPECT_EQ(ring.exact(), "");
  *finished = world->now();
  return world->stats();
}

TEST(FaultInjection, EqualSeedsGiveIdenticalRunsAndOtherSeedsOtherOnes) {
  Time t1 = 0, t2 = 0, t3 = 0;
  const WorldStats a = stats_of_a_lossy_run(5, &t1);
  const WorldStats b = stats_of_a_lossy_run(5, &t2);
  const WorldStats c = stats_of_a_lossy_run(6, &t3);
  EXPECT_EQ(t1, t2);
  EXPECT_EQ(stats_fields(a), stats_fields(b));
  EXPECT_NE(stats_fields(a), stats_fields(c));
}

TEST(FaultInjection, ALinkThatComesBackIsRiddenOut) {
  FaultPlan plan;
  // Down after the tree was built (a link down at creation gets no tree).
  const Time up = 300 * kPicosPerMicro;
  plan.link_outages.push_back({"host2", "leaf0", 10 * kPicosPerMicro, up});
  auto world = test::make_world(lossy_fabric(kRanks, kPerLeaf, plan));
  ASSERT_TRUE(world);
  for (const char* algorithm : {"innet", "ring"}) {
    const auto out = run_allreduce(*world, algorithm, kCount);
    EXPECT_EQ(out.exact(), "") << algorithm;
  }
  const WorldStats s = world->stats();
  EXPECT_GT(s.fault_link_down_drops, 0u);
  EXPECT_GE(world->now(), up);  // nothing completes before host2 is reachable
  EXPECT_EQ(s.reruns, 0u);
}

TEST(FaultInjection, PlansAreCheckedAndErrorsNameTheCulprit) {
  auto error_of = [](const FaultPlan& plan) {
    auto world = World::create(lossy_fabric(kRanks, kPerLeaf, plan));
    return world.ok() ? Status() : world.status();
  };
  FaultPlan p;
  p.every_link.drop = 1.5;
  Status s = error_of(p);
  EXPECT_EQ(s.code(), StatusCode::invalid_argument);
  EXPECT_NE(s.message().find("drop probability 1.5"), std::string::npos) << s.message();

  p = {};
  p.every_link.corrupt = -0.1;
  EXPECT_EQ(error_of(p).code(), StatusCode::invalid_argument);
  p = {};
  p.nodes.push_back({"leaf9", {.drop = 0.1}});
  s = error_of(p);
  EXPECT_NE(s.message().find("'leaf9'"), std::string::npos) << s.message();
  p = {};
  p.links.push_back({"host0", "spine0", {.drop = 0.1}});
  s = error_of(p);
  EXPECT_NE(s.message().find("no link between 'host0' and 'spine0'"), std::string::npos)
      << s.message();
  p = {};
  p.switch_outages.push_back({"host3", 0, kNever});
  s = error_of(p);
  EXPECT_NE(s.message().find("host3"), std::string::npos) << s.message();
  p = {};
  p.switch_outages.push_back({"spine0", 5 * kPicosPerMilli, kPicosPerMilli});
  EXPECT_EQ(error_of(p).code(), StatusCode::invalid_argument);
  p = {};
  p.link_outages.push_back({"leaf0", "spine1", -1, kNever});
  EXPECT_EQ(error_of(p).code(), StatusCode::invalid_argument);
}

TEST(FaultInjection, FabricsThatCannotInjectFaultsRefuseAPlan) {
  FaultPlan plan;
  plan.every_link.drop = 0.01;
  FabricOptions o = lossy_fabric(4, 2, plan);
  o.fabric = FabricKind::live;
  auto world = World::create(o);
  ASSERT_FALSE(world.ok());
  EXPECT_EQ(world.status().code(), StatusCode::not_supported);
}

}  // namespace
}  // namespace inca
