// Ranks that call one collective with different counts, dtypes, ops, flags
// or algorithms: every rank gets an error (never a hang, never garbage), fast
// where the protocol sees the mismatch, and the communicator works for the
// next, matching, collective.
#include <gtest/gtest.h>

#include "reliability_support.hpp"

namespace inca {
namespace {

using test::RankArgs;
using test::run_allreduce;

constexpr std::uint32_t kRanks = 6;

std::unique_ptr<World> world_of(TopologyKind kind) {
  return test::make_world(test::small_fabric(kind, kRanks, 3));
}

// Every rank failed; returns how many failed with `mismatch`.
std::uint32_t expect_all_failed(const test::AllreduceRun& out, const std::string& what) {
  EXPECT_TRUE(out.run.ok()) << what << ": " << out.run.to_string();
  std::uint32_t mismatches = 0;
  for (std::size_t r = 0; r < out.ranks.size(); ++r) {
    const Status& s = out.ranks[r].status;
    EXPECT_FALSE(s.ok()) << what << ": rank " << r << " returned ok";
    EXPECT_TRUE(s.code() == StatusCode::mismatch || s.code() == StatusCode::timeout)
        << what << ": rank " << r << ": " << s.to_string();
    mismatches += s.code() == StatusCode::mismatch ? 1 : 0;
  }
  return mismatches;
}

struct Case {
  const char* name;
  std::function<RankArgs(std::uint32_t)> args;
};

// What rank 3 gets wrong. Counts differ by whole chunks (the last flag moves)
// and within one; f32 and i32 have the same size, so only the header tells.
std::vector<Case> cases() {
  return {
      {"count by chunks", [](std::uint32_t r) { return RankArgs{r == 3 ? 1024u : 3072u}; }},
      {"count within a chunk", [](std::uint32_t r) { return RankArgs{r == 3 ? 1000u : 1001u}; }},
      {"dtype",
       [](std::uint32_t r) {
         return RankArgs{3000, r == 3 ? Dtype::i32 : Dtype::f32};
       }},
      {"op",
       [](std::uint32_t r) {
         return RankArgs{3000, Dtype::f32, r == 3 ? ReduceOp::max : ReduceOp::sum};
       }},
  };
}

TEST(Mismatch, InNetworkRanksAllFailFastWithMismatch) {
  for (TopologyKind kind : {TopologyKind::star, TopologyKind::leaf_spine}) {
    auto world = world_of(kind);
    ASSERT_TRUE(world);
    for (const Case& c : cases()) {
      const auto out = run_allreduce(*world, "innet", c.args);
      EXPECT_EQ(expect_all_failed(out, c.name), kRanks) << c.name;
      // The switch tells every rank with an error packet: no retransmission
      // timeout is waited for.
      EXPECT_LT(out.last_finish() - out.started, kPicosPerMilli) << c.name;
      EXPECT_NE(out.ranks[0].status.message().find("refused"), std::string::npos)
          << out.ranks[0].status.message();
      EXPECT_EQ(run_allreduce(*world, "innet", 3000).exact(), "") << "after " << c.name;
    }
    const WorldStats s = world->stats();
    EXPECT_GT(s.switch_errors_sent, 0u);
    EXPECT_GT(s.host_errors_received, 0u);
    EXPECT_EQ(s.reruns, 0u);
  }
}

TEST(Mismatch, ReproducibleOnSomeRanksOnlyIsAMismatch) {
  auto world = world_of(TopologyKind::leaf_spine);
  ASSERT_TRUE(world);
  std::vector<Status> got(kRanks);
  ASSERT_TRUE(world
                  ->run([&](Communicator& comm) {
                    std::vector<float> x(2000, 1.0f), y(2000);
                    got[comm.rank()] =
                        comm.allreduce(x.data(), y.data(), 2000, Dtype::f32, ReduceOp::sum,
                                       {.algorithm = "innet", .reproducible = comm.rank() != 1});
                  })
                  .ok());
  for (const Status& s : got) EXPECT_EQ(s.code(), StatusCode::mismatch) << s.to_string();
}

TEST(Mismatch, HostAlgorithmsFailOnEveryRankThenWorkAgain) {
  auto world = world_of(TopologyKind::leaf_spine);
  ASSERT_TRUE(world);
  for (const char* algorithm : {"ring", "rabenseifner", "recursive_doubling", "binomial_tree"}) {
    for (const Case& c : cases()) {
      const auto out = run_allreduce(*world, algorithm, c.args);
      const std::string what = std::string(algorithm) + ", " + c.name;
      // Receivers that see the other kind or size fail with mismatch; the
      // agreement then tells every rank the calls differed.
      EXPECT_EQ(expect_all_failed(out, what), kRanks) << what;
      EXPECT_LT(out.last_finish() - out.started, 500 * kPicosPerMilli) << what;
      EXPECT_EQ(run_allreduce(*world, algorithm, 3000).exact(), "") << "after " << what;
    }
  }
  EXPECT_EQ(world->stats().reruns, 0u);
}

TEST(Mismatch, RanksThatPickDifferentAlgorithmsAllFailThenWorkAgain) {
  auto world = world_of(TopologyKind::leaf_spine);
  ASSERT_TRUE(world);
  std::vector<Status> got(kRanks);
  const Time start = world->now();
  Time end = 0;
  ASSERT_TRUE(world
                  ->run([&](Communicator& comm) {
                    std::vector<float> x(3000, 1.0f), y(3000);
                    got[comm.rank()] =
                        comm.allreduce(x.data(), y.data(), 3000, Dtype::f32, ReduceOp::sum,
                                       {.algorithm = comm.rank() == 0 ? "ring" : "innet"});
                    end = std::max(end, comm.now());
                  })
                  .ok());
  for (const Status& s : got) {
    EXPECT_EQ(s.code(), StatusCode::mismatch) << s.to_string();
    EXPECT_NE(s.message().find("different arguments"), std::string::npos) << s.message();
  }
  EXPECT_LT(end - start, 500 * kPicosPerMilli);
  EXPECT_EQ(run_allreduce(*world, "innet", 3000).exact(), "");
  EXPECT_EQ(run_allreduce(*world, "ring", 3000).exact(), "");
}

}  // namespace
}  // namespace inca
