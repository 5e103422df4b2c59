// The tree service on its own: agreement on failed attempts (all failed:
// re-run; someone completed, failed for good, or called it differently: no;
// someone silent: the window closes), re-forming trees around dead switches
// and links once every rank reported, and the manager's exclusions.
#include <gtest/gtest.h>

#include "runtime/tree_service.hpp"
#include "sim/sim_fabric.hpp"
#include "test_support.hpp"

namespace inca::runtime {
namespace {

using test::tree_request;

constexpr std::uint32_t kRanks = 4;

struct TreeServiceTest : ::testing::Test {
  topology::Topology topo = *topology::Topology::leaf_spine(kRanks, 2, 2, {}, {}, {64, 1024});
  manager::AggregationManager manager{topo};
  sim::SimFabric fabric{topo, {}};
  RecoveryOptions options = [] {
    RecoveryOptions o;
    o.agreement_timeout = 1000;
    return o;
  }();
  TreeService service{topo, manager, fabric, tree_request(1, 2, {0, 1, 2, 3}, 8), kRanks, options};

  static TreeService::Report report(Outcome o, std::string sig = "innet of 8 x f32 sum",
                                    bool suspect = false, std::uint64_t generation = 0) {
    return {o, suspect, generation, std::move(sig)};
  }
  std::uint32_t node(const std::string& name) const {
    for (std::uint32_t id = 0; id < topo.nodes().size(); ++id)
      if (topo.node(id).name == name) return id;
    ADD_FAILURE() << "no node " << name;
    return 0;
  }
};

TEST_F(TreeServiceTest, EveryRankFailingRecoverablyMeansARerun) {
  service.start();
  for (std::uint32_t r = 0; r < kRanks; ++r) {
    EXPECT_FALSE(service.verdict(1, 0).has_value()) << "decided before rank " << r << " reported";
    service.report(1, r, report(Outcome::recoverable), 0);
  }
  auto v = service.verdict(1, 0);
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->rerun);
  EXPECT_FALSE(v->mismatch);
}

TEST_F(TreeServiceTest, ARankThatCompletedForbidsTheRerun) {
  service.start();
  service.report(1, 2, report(Outcome::ok), 0);
  for (std::uint32_t r : {0u, 1u, 3u}) service.report(1, r, report(Outcome::recoverable), 5);
  auto v = service.verdict(1, 5);
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->rerun);
  EXPECT_NE(v->why.find("rank 2 completed it"), std::string::npos) << v->why;
}

TEST_F(TreeServiceTest, DifferentArgumentsAreAMismatch) {
  service.start();
  for (std::uint32_t r = 0; r < kRanks; ++r)
    service.report(
        1, r, report(Outcome::recoverable, r == 3 ? "ring of 8 x f32 sum" : "innet of 8 x f32 sum"),
        0);
  auto v = service.verdict(1, 0);
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->mismatch);
  EXPECT_FALSE(v->rerun);
  EXPECT_NE(v->why.find("rank 3: ring of 8 x f32 sum"), std::string::npos) << v->why;
}

TEST_F(TreeServiceTest, SilentRanksCloseTheWindowAndTheVerdictNeverChanges) {
  service.start();
  service.report(7, 0, report(Outcome::recoverable), 100);
  service.report(7, 1, report(Outcome::recoverable), 200);
  EXPECT_FALSE(service.verdict(7, 1099).has_value());
  auto v = service.verdict(7, 1100);  // the first failure at 100 opened a 1000 ps window
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->rerun);
  EXPECT_NE(v->why.find("2 of 4 ranks did not report"), std::string::npos) << v->why;
  // Late reports change nothing: every rank must see the same decision.
  service.report(7, 2, report(Outcome::recoverable), 2000);
  service.report(7, 3, report(Outcome::recoverable), 2000);
  EXPECT_FALSE(service.verdict(7, 2000)->rerun);
  WorldStats s;
  service.add_stats(s);
  EXPECT_EQ(s.agreements_incomplete, 1u);
  EXPECT_EQ(s.collectives_failed, 1u);
}

TEST_F(TreeServiceTest, ASuspectTreeIsReformedAroundDeadSwitchesWhenEveryoneReported) {
  FaultPlan plan;
  plan.switch_outages.push_back({"spine1", 0, kNever});
  ASSERT_TRUE(fabric.set_faults(plan).ok());
  // Built before the outage shows (at time 0 spine1 is already down here, so
  // the first tree avoids it too); check the re-form path on a healthy start.
  sim::SimFabric healthy(topo, {});
  manager::AggregationManager m2(topo);
  TreeService s2(topo, m2, healthy, tree_request(1, 2, {0, 1, 2, 3}, 8), kRanks, options);
  s2.start();
  const auto before = s2.current();
  ASSERT_TRUE(before.plan);
  EXPECT_EQ(topo.node(before.plan->root).name, "spine1");
  ASSERT_TRUE(healthy.set_faults(plan).ok());
  for (std::uint32_t r = 0; r < kRanks; ++r)
    s2.report(1, r, report(Outcome::recoverable, "innet of 8 x f32 sum", true, before.generation),
              0);
  // Not yet: no rank asked for the verdict, so nobody has left the old tree.
  EXPECT_EQ(s2.current().generation, before.generation);
  auto v = s2.verdict(1, 0);
  ASSERT_TRUE(v.has_value());
  ASSERT_TRUE(v->tree.plan);
  EXPECT_EQ(v->tree.generation, before.generation + 1);
  EXPECT_EQ(topo.node(v->tree.plan->root).name, "spine0");
  EXPECT_NE(v->tree.plan->tree, before.plan->tree);
  for (const auto& [sw, install] : v->tree.plan->installs) EXPECT_NE(sw, node("spine1"));
  // The old tree's slots went back to the manager (spine1's too).
  EXPECT_EQ(m2.free_slots(node("spine1")), 64u);
  WorldStats stats;
  s2.add_stats(stats);
  EXPECT_EQ(stats.trees_reformed, 1u);
  // The service that saw spine1 dead from the start never used it.
  service.start();
  EXPECT_EQ(topo.node(service.current().plan->root).name, "spine0");
}

TEST_F(TreeServiceTest, AttemptCountersArePerRankAndPersist) {
  service.attempts(2) = 41;
  EXPECT_EQ(++service.attempts(2), 42u);
  EXPECT_EQ(service.attempts(1), 0u);
}

TEST(ManagerExclusions, TreesAvoidDeadSwitchesAndLinksOrSayWhyNot) {
  auto topo = topology::Topology::leaf_spine(4, 2, 2, {}, {}, {64, 1024});
  ASSERT_TRUE(topo.ok());
  manager::AggregationManager manager(*topo);
  auto id = [&](const std::string& name) {
    for (std::uint32_t n = 0; n < topo->nodes().size(); ++n)
      if (topo->node(n).name == name) return n;
    return 0u;
  };
  manager::TreeRequest req = tree_request(1, 2, {0, 1, 2, 3}, 8);
  req.avoid_switches = {id("spine0")};
  auto plan = manager.allocate(req);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->root, id("spine1"));
  ASSERT_TRUE(manager.release(*plan).ok());

  // leaf1's link to spine1 is down: spine1 cannot be the root, spine0 can.
  req.avoid_switches.clear();
  const auto& leaf1 = topo->node(id("leaf1"));
  for (std::uint16_t p = 0; p < leaf1.ports.size(); ++p)
    if (leaf1.ports[p].peer_node == id("spine1")) req.avoid_links.push_back({id("leaf1"), p});
  for (int i = 0; i < 3; ++i) {  // whatever the tree id's rotation prefers
    plan = manager.allocate(req);
    ASSERT_TRUE(plan.ok()) << plan.status().to_string();
    EXPECT_EQ(plan->root, id("spine0"));
    ASSERT_TRUE(manager.release(*plan).ok());
  }

  // Both spines dead: the leaves are cut apart.
  req.avoid_links.clear();
  req.avoid_switches = {id("spine0"), id("spine1")};
  auto none = manager.allocate(req);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::no_tree);

  // A dead leaf cuts its hosts off.
  req.avoid_switches = {id("leaf0")};
  none = manager.allocate(req);
  EXPECT_EQ(none.status().code(), StatusCode::no_tree);
}

}  // namespace
}  // namespace inca::runtime
