// The aggregation manager's SHARP resources per switch: trees rooted apart,
// quotas per priority, slots and tree limits, streaming locks per switch and
// per port (contention, retry, release), all-or-nothing allocation.
#include "manager/switch_resources.hpp"

#include <gtest/gtest.h>

namespace inca::manager {
namespace {

// 16 hosts, 4 per leaf (leaf0..3 = switches 0..3), spines 4 and 5; each
// switch: 100 slots of 1 KiB, 3 LLT and 2 SAT trees, per-switch locks.
FabricDescription test_fabric() {
  FabricLoad load =
      FabricDescription::load(std::string(INCA_SOURCE_DIR) + "/tests/data/jobs/fabric.yaml");
  EXPECT_TRUE(load.ok()) << load.report();
  return *load.description;
}

constexpr std::array<std::uint32_t, 10> kQuotas = {20, 20, 20, 20, 20, 20, 20, 20, 60, 100};

JobResourceRequest job(std::string name, std::vector<std::uint32_t> hosts, std::uint32_t slots,
                       std::uint32_t trees = 1, bool streaming = false,
                       std::uint32_t priority = 9) {
  return {std::move(name), priority, std::move(hosts), slots, 1024, trees, streaming};
}

TEST(SwitchResources, TreesOfAJobAreRootedAtDifferentSpines) {
  const FabricDescription f = test_fabric();
  SwitchResources r(f, kQuotas);
  auto a = r.allocate(job("a", {0, 4}, 10, 2));
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  ASSERT_EQ(a->trees.size(), 2u);
  EXPECT_EQ(a->trees[0].root, 4u);
  EXPECT_EQ(a->trees[1].root, 5u);
  for (const AllocatedTree& t : a->trees) {
    EXPECT_EQ(t.levels, 2u);
    EXPECT_EQ(t.switches.size(), 3u);  // the spine and both leaves
  }
  // Both trees cross each leaf: two trees' slots there, one tree's on a spine.
  EXPECT_EQ(r.usage(0).slots, 20u);
  EXPECT_EQ(r.usage(0).llt_trees, 2u);
  EXPECT_EQ(r.usage(0).payload_bytes, 20u * 1024);
  EXPECT_EQ(r.usage(4).slots, 10u);
  EXPECT_EQ(r.usage(2).slots, 0u);
  // The next job's single tree goes to the spine with fewer trees rooted.
  ASSERT_TRUE(r.allocate(job("b", {8, 12}, 10)).ok());
  auto c = r.allocate(job("c", {9, 13}, 10));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->trees[0].root, 5u);
  // A job within one leaf gets the one-level tree there.
  auto d = r.allocate(job("d", {2, 3}, 10));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->trees[0].root, 0u);
  EXPECT_EQ(d->trees[0].levels, 1u);
  EXPECT_EQ(d->llt_max_bytes(), 10u * 1024);
}

TEST(SwitchResources, TooFewRootsIsNoTree) {
  const FabricDescription f = test_fabric();
  SwitchResources r(f, kQuotas);
  auto a = r.allocate(job("a", {0, 4}, 1, 7));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::no_tree);
  EXPECT_NE(a.status().message().find("asks for 7 tree(s) over its 2 hosts, but 6"),
            std::string::npos)
      << a.status().message();
}

TEST(SwitchResources, QuotaPerPriorityIsAShareOfEachSwitch) {
  const FabricDescription f = test_fabric();
  SwitchResources r(f, kQuotas);
  // Priority 4: 20% of 100 slots.
  ASSERT_TRUE(r.allocate(job("fits", {0, 1}, 20, 1, false, 4)).ok());
  auto over = r.allocate(job("over", {4, 5}, 21, 1, false, 4));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::quota_exceeded);
  EXPECT_EQ(over.status().message(),
            "job 'over' needs 21 slots on switch 'leaf1'; priority 4's quota is 20% of 100 = 20");
  // Priority 8's quota is 60%.
  EXPECT_TRUE(r.allocate(job("over", {4, 5}, 21, 1, false, 8)).ok());
  // Two trees through a leaf count twice against its quota.
  auto two = r.allocate(job("two", {8, 12}, 11, 2, false, 4));
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.status().code(), StatusCode::quota_exceeded);
}

TEST(SwitchResources, SlotsAndTreeLimitsAreNoResourceAndReleaseGivesThemBack) {
  const FabricDescription f = test_fabric();
  SwitchResources r(f, kQuotas);
  ASSERT_TRUE(r.allocate(job("a", {0, 1}, 70)).ok());
  auto b = r.allocate(job("b", {2, 3}, 40));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::no_resource);
  EXPECT_EQ(b.status().message(),
            "job 'b' needs 40 slots on switch 'leaf0', which has 30 of 100 free");
  EXPECT_EQ(r.usage(0).slots, 70u);  // nothing of b was kept
  ASSERT_TRUE(r.release("a").ok());
  EXPECT_EQ(r.usage(0).slots, 0u);
  EXPECT_EQ(r.usage(0).llt_trees, 0u);
  ASSERT_TRUE(r.allocate(job("b", {2, 3}, 40)).ok());
  EXPECT_EQ(r.release("a").code(), StatusCode::invalid_argument);  // released twice

  // Three LLT trees per switch: a fourth through leaf0 does not fit.
  ASSERT_TRUE(r.allocate(job("c", {0, 4}, 1, 2)).ok());
  auto d = r.allocate(job("d", {1, 5}, 1, 1));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(),
            "job 'd' needs 1 low-latency tree(s) on switch 'leaf0', which holds 3 of its 3");
  // Two SAT trees per switch.
  SwitchResources s(f, kQuotas);
  ASSERT_TRUE(s.allocate(job("s1", {0, 1}, 1, 1, true)).ok());
  ASSERT_TRUE(s.allocate(job("s2", {2, 3}, 1, 1, true)).ok());
  auto s3 = s.allocate(job("s3", {0, 4}, 1, 1, true));
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.status().code(), StatusCode::no_resource);
  EXPECT_EQ(s3.status().message(),
            "job 's3' needs 1 streaming tree(s) on switch 'leaf0', which holds 2 of its 2");
}

TEST(SwitchResources, PayloadPerSlotAboveTheSwitchsIsNoResource) {
  const FabricDescription f = test_fabric();
  SwitchResources r(f, kQuotas);
  JobResourceRequest req = job("a", {0, 1}, 4);
  req.payload_bytes = 2048;
  auto a = r.allocate(req);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::no_resource);
  EXPECT_EQ(a.status().message(),
            "job 'a': payload per slot 2048 B is above switch 'leaf0''s 1024 B");
  req.payload_bytes = 1024;
  EXPECT_TRUE(r.allocate(req).ok());
}

TEST(SwitchResources, PerSwitchLocksAreExclusiveRetryableAndReleased) {
  const FabricDescription f = test_fabric();
  SwitchResources r(f, kQuotas);
  ASSERT_TRUE(r.allocate(job("a", {0, 1}, 4, 1, true)).ok());
  ASSERT_TRUE(r.allocate(job("b", {2, 3}, 4, 1, true)).ok());
  ASSERT_TRUE(r.allocate(job("plain", {4, 5}, 4)).ok());
  ASSERT_TRUE(r.lock_streaming("a").ok());
  EXPECT_TRUE(r.lock_streaming("a").ok());  // holding it already
  const Status busy = r.lock_streaming("b");
  EXPECT_EQ(busy.code(), StatusCode::lock_failed);
  EXPECT_EQ(busy.message(),
            "job 'b': the streaming lock on switch 'leaf0' is held by job 'a'; retry when it is "
            "released");
  EXPECT_EQ(r.lock_holder(0, 0), "a");
  // The retry succeeds once a lets go.
  r.unlock_streaming("a");
  EXPECT_TRUE(r.lock_streaming("b").ok());
  EXPECT_EQ(r.lock_streaming("a").code(), StatusCode::lock_failed);
  // Ending a job releases its lock.
  ASSERT_TRUE(r.release("b").ok());
  EXPECT_EQ(r.lock_holder(0, 0), "");
  EXPECT_TRUE(r.lock_streaming("a").ok());
  EXPECT_EQ(r.lock_streaming("plain").code(), StatusCode::lock_denied);
  EXPECT_EQ(r.lock_streaming("nobody").code(), StatusCode::lock_denied);
}

TEST(SwitchResources, PerPortLocksLetJobsOnDisjointPortsStreamTogether) {
  FabricDescription f = test_fabric();
  for (SwitchDescription& s : f.switches) s.streaming_lock = StreamingLock::per_port;
  SwitchResources r(f, kQuotas);
  ASSERT_TRUE(r.allocate(job("a", {0, 1}, 4, 1, true)).ok());
  ASSERT_TRUE(r.allocate(job("b", {2, 3}, 4, 1, true)).ok());
  EXPECT_TRUE(r.lock_streaming("a").ok());
  EXPECT_TRUE(r.lock_streaming("b").ok());
  // A job whose tree uses a port of a's (host0's link) collides there.
  SwitchResources shared(f, kQuotas);
  ASSERT_TRUE(shared.allocate(job("a", {0, 1}, 4, 1, true)).ok());
  ASSERT_TRUE(shared.allocate(job("c", {0, 4}, 4, 1, true)).ok());
  ASSERT_TRUE(shared.lock_streaming("a").ok());
  const Status busy = shared.lock_streaming("c");
  EXPECT_EQ(busy.code(), StatusCode::lock_failed);
  EXPECT_NE(busy.message().find("switch 'leaf0' (the port of link 0) is held by job 'a'"),
            std::string::npos)
      << busy.message();
}

}  // namespace
}  // namespace inca::manager
