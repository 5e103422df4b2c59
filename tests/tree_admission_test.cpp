// The AggregationManager's trees booked in a SwitchResources on a described
// fabric (TreeAdmission): quota, tree limits and payload per slot on every
// switch of a tree, with messages naming the switch and the numbers; the
// exclusive streaming lock (contention, release, retry); and, through a
// World on a fabric file, `auto` falling back to a host algorithm with the
// reason in last_note(), results checked against a reference reduction.
#include "manager/tree_admission.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fabric/fabric_topology.hpp"
#include "inca/communicator.hpp"
#include "inca/world.hpp"
#include "manager/aggregation_manager.hpp"

namespace inca::manager {
namespace {

// True when `text` contains `part` (shown by the failing check).
::testing::AssertionResult has(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}

const std::string kData = std::string(INCA_SOURCE_DIR) + "/tests/data/jobs/";

// jobs/fabric.yaml: 16 hosts, 4 per leaf (leaf0..3 = switches 0..3), spines
// 4 and 5; every switch 100 slots of 1 KiB, 3 low-latency and 2 streaming
// trees, one streaming lock per switch.
struct Admitted {
  FabricDescription fabric;
  topology::Topology topology;
  std::unique_ptr<AggregationManager> manager;

  explicit Admitted(const std::string& file) {
    FabricLoad load = FabricDescription::load(kData + file);
    EXPECT_TRUE(load.ok()) << load.report();
    fabric = *load.description;
    auto built = fabric_file::build_topology(fabric);
    EXPECT_TRUE(built.ok()) << built.status().to_string();
    topology = std::move(*built);
    manager = std::make_unique<AggregationManager>(topology);
    manager->set_admission(std::make_shared<TreeAdmission>(fabric, topology));
  }
  Result<TreePlan> allocate(std::vector<std::uint32_t> hosts, std::uint32_t slots,
                            JobIdentity job = {}) {
    TreeRequest req;
    req.hosts = std::move(hosts);
    req.slots = slots;
    req.identity = std::move(job);
    return manager->allocate(req);
  }
};

TEST(TreeAdmission, QuotaAndPayloadAreCheckedOnTheTreesSwitchesAndRefusalsKeepNoSlots) {
  Admitted a("fabric.yaml");
  JobIdentity low;
  low.name = "train";
  low.tenant = "lab";
  low.priority = 3;
  low.quota_percent = 10;
  auto refused = a.allocate({0, 4}, 16, low);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::quota_exceeded);
  EXPECT_EQ(refused.status().message(),
            "job 'lab/train tree 1' needs 16 slots on switch 'leaf0'; priority 3's quota is 10% "
            "of 100 = 10");
  EXPECT_EQ(a.manager->free_slots(0), 100u);  // the pool gave the refused tree's slots back
  EXPECT_TRUE(a.allocate({0, 4}, 10, low).ok());

  JobIdentity big_slots;
  big_slots.payload_bytes = 2048;
  auto payload = a.allocate({1, 5}, 8, big_slots);
  ASSERT_FALSE(payload.ok());
  EXPECT_EQ(payload.status().code(), StatusCode::no_resource);
  EXPECT_EQ(payload.status().message(),
            "job 'job tree 2': payload per slot 2048 B is above switch 'leaf0''s 1024 B");
}

TEST(TreeAdmission, LowLatencyTreeLimitHoldsUntilATreeIsReleased) {
  Admitted a("fabric.yaml");
  std::vector<TreePlan> plans;
  for (int i = 0; i < 3; ++i) {
    auto p = a.allocate({0, 1}, 8);  // one-level trees on leaf0
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    plans.push_back(*p);
  }
  auto fourth = a.allocate({2, 3}, 8);
  ASSERT_FALSE(fourth.ok());
  EXPECT_EQ(fourth.status().code(), StatusCode::no_resource);
  EXPECT_EQ(fourth.status().message(),
            "job 'job tree 4' needs 1 low-latency tree(s) on switch 'leaf0', which holds 3 of "
            "its 3");
  ASSERT_TRUE(a.manager->release(plans[1]).ok());
  EXPECT_TRUE(a.allocate({2, 3}, 8).ok());
}

TEST(TreeAdmission, StreamingLockIsExclusivePerSwitchAndFreedWithItsTree) {
  Admitted a("fabric.yaml");
  JobIdentity streaming;
  streaming.streaming = true;
  auto first = a.allocate({0, 4}, 8, streaming);
  auto second = a.allocate({1, 5}, 8, streaming);
  auto plain = a.allocate({8, 12}, 8);  // leaf2, leaf3 and a spine
  ASSERT_TRUE(first.ok() && second.ok() && plain.ok());
  EXPECT_TRUE(first->streaming);
  EXPECT_FALSE(plain->streaming);
  ASSERT_TRUE(a.manager->lock_streaming(*first).ok());
  Status busy = a.manager->lock_streaming(*second);
  EXPECT_EQ(busy.code(), StatusCode::lock_failed);
  EXPECT_EQ(busy.message(),
            "job 'job tree 2': the streaming lock on switch 'leaf0' is held by job 'job tree 1'; "
            "retry when it is released");
  EXPECT_EQ(a.manager->lock_streaming(*plain).code(), StatusCode::lock_denied);
  // Two streaming trees cross leaf0 already: its limit.
  auto third = a.allocate({3, 7}, 8, streaming);
  ASSERT_FALSE(third.ok());
  EXPECT_TRUE(has(third.status().message(),
                  "1 streaming tree(s) on switch 'leaf0', which holds 2 of its 2"));
  ASSERT_TRUE(a.manager->release(*first).ok());
  EXPECT_TRUE(a.manager->lock_streaming(*second).ok());
}

// i32 inputs: the exact sum whatever the order of reduction.
std::int32_t input(std::uint32_t world_rank, std::size_t i) {
  return static_cast<std::int32_t>(world_rank * 1000 + i % 89) - 500;
}

// All-reduces `count` i32 with `auto` on `comm` and returns "" when the
// result equals the reference sum over its members, else what differed.
std::string exact_auto_allreduce(Communicator& comm, std::size_t count) {
  std::vector<std::int32_t> send(count), recv(count, -1), want(count, 0);
  for (std::size_t i = 0; i < count; ++i) send[i] = input(comm.world_rank(comm.rank()), i);
  for (int r = 0; r < comm.size(); ++r)
    for (std::size_t i = 0; i < count; ++i) want[i] += input(comm.world_rank(r), i);
  Status s = comm.allreduce(send.data(), recv.data(), count, Dtype::i32, ReduceOp::sum);
  if (!s.ok()) return s.to_string();
  return recv == want ? "" : "differs from the reference sum";
}

TEST(TreeAdmission, AWorldOverItsQuotaFallsBackToAHostAlgorithmAndSaysWhy) {
  FabricOptions o;
  o.fabric_file = kData + "fabric.yaml";
  o.window = 16;
  o.job_identity.priority = 2;
  o.job_identity.quota_percent = 10;
  auto world = World::create(o);
  ASSERT_TRUE(world.ok()) << world.status().to_string();
  EXPECT_EQ((*world)->innet_status().code(), StatusCode::quota_exceeded);
  std::vector<std::string> errors(16), notes(16), algorithms(16);
  ASSERT_TRUE((*world)
                  ->run([&](Communicator& comm) {
                    errors[comm.rank()] = exact_auto_allreduce(comm, 300);
                    notes[comm.rank()] = comm.last_note();
                    algorithms[comm.rank()] = comm.last_algorithm();
                  })
                  .ok());
  for (int r = 0; r < 16; ++r) {
    EXPECT_EQ(errors[r], "") << r;
    EXPECT_NE(algorithms[r], "innet");
    EXPECT_TRUE(has(notes[r], "quota_exceeded"));
    EXPECT_TRUE(has(notes[r], "16 slots on switch 'leaf0'; priority 2's quota is 10% of 100 = 10"));
  }
  FabricOptions bad = o;
  bad.job_identity.priority = 10;
  EXPECT_EQ(World::create(bad).status().code(), StatusCode::invalid_argument);
}

// Two communicators, booked as jobs "even" and "odd", that both want
// streaming on the same switches at once: one takes the locks and runs
// in-network, the other's `auto` uses a host algorithm and names the holder;
// once the holder is destroyed, the other's next large all-reduce takes the
// locks (lock_failed is retryable). Small messages never need the lock.
TEST(TreeAdmission, OfTwoCommunicatorsWantingTheStreamingLockOneRunsInNetwork) {
  FabricOptions o;
  o.fabric_file = kData + "streaming-fabric.yaml";
  o.window = 8;
  auto world = World::create(o);
  ASSERT_TRUE(world.ok()) << world.status().to_string();
  constexpr std::size_t kLarge = 2000, kSmall = 64;  // 8000 B and 256 B
  std::vector<std::string> errors(4), first(4), notes(4), retry(4), small(4);
  ASSERT_TRUE((*world)
                  ->run([&](Communicator& comm) {
                    const int r = comm.rank();
                    JobIdentity job;
                    job.priority = 12;
                    if (comm.split(0, r, job).status().code() != StatusCode::invalid_argument)
                      errors[r] += "priority 12 accepted; ";
                    job.priority = 0;
                    job.name = r % 2 == 0 ? "even" : "odd";
                    job.streaming = true;
                    job.streaming_threshold = 1024;
                    // Hosts {0, 2} and {1, 3}: each group spans both leaves and the spine.
                    auto split = comm.split(r % 2, r, job);
                    if (!split.ok()) {
                      errors[r] = split.status().to_string();
                      return;
                    }
                    std::unique_ptr<Communicator> sub = std::move(*split);
                    errors[r] += exact_auto_allreduce(*sub, kLarge);
                    first[r] = sub->last_algorithm();
                    notes[r] = sub->last_note();
                    errors[r] += exact_auto_allreduce(*sub, kSmall);
                    small[r] = sub->last_algorithm();
                    const bool holder = first[r] == "innet";
                    if (holder) sub.reset();  // frees its tree and locks
                    if (Status b = comm.barrier(); !b.ok()) errors[r] += b.to_string();
                    if (holder) return;
                    errors[r] += exact_auto_allreduce(*sub, kLarge);
                    retry[r] = sub->last_algorithm();
                  })
                  .ok());
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(errors[r], "") << r;
    EXPECT_EQ(small[r], "innet") << r;
    EXPECT_EQ(first[r], first[r % 2]) << "members of a group agree";
  }
  ASSERT_NE(first[0] == "innet", first[1] == "innet") << "exactly one group holds the lock";
  const int loser = first[0] == "innet" ? 1 : 0;
  const std::string names[2] = {"even", "odd"};
  for (int r = loser; r < 4; r += 2) {
    EXPECT_TRUE(has(
        notes[r], "8000 B needs the streaming lock (lock_failed: job '" + names[loser] + " tree"));
    EXPECT_TRUE(has(notes[r], "is held by job '" + names[1 - loser] + " tree"));
    EXPECT_EQ(retry[r], "innet") << "the lock is retried once its holder is gone";
  }
}

}  // namespace
}  // namespace inca::manager
