// Communicator::split: groups ordered by key then rank, concurrent in-network
// and ring all-reduces in sibling groups with exact results, every
// collective on a sub-communicator, color < 0, slots that run short
// (no_resource, fallback) and come back when the groups are destroyed, and
// the limit on sub-communicators per rank.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "inca/communicator.hpp"
#include "inca/world.hpp"

namespace inca {
namespace {

constexpr std::size_t kCount = 1500;

std::int32_t input(std::uint32_t world_rank, std::size_t i) {
  return static_cast<std::int32_t>(world_rank * 1000 + i % 97);
}

// The sum every member of `sub` must get.
std::vector<std::int32_t> group_sum(const Communicator& sub) {
  std::vector<std::int32_t> want(kCount, 0);
  for (int r = 0; r < sub.size(); ++r)
    for (std::size_t i = 0; i < kCount; ++i) want[i] += input(sub.world_rank(r), i);
  return want;
}

// "" when `sub` all-reduces exactly with `algorithm`, else what went wrong.
std::string allreduce_exact(Communicator& sub, const std::string& algorithm) {
  std::vector<std::int32_t> send(kCount), recv(kCount, -1);
  for (std::size_t i = 0; i < kCount; ++i) send[i] = input(sub.world_rank(sub.rank()), i);
  Status s = sub.allreduce(send.data(), recv.data(), kCount, Dtype::i32, ReduceOp::sum,
                           {.algorithm = algorithm});
  if (!s.ok()) return algorithm + ": " + s.to_string();
  if (algorithm != "auto" && sub.last_algorithm() != algorithm)
    return algorithm + " ran " + sub.last_algorithm();
  if (recv != group_sum(sub)) return algorithm + ": differs from the group's sum";
  return "";
}

struct Errors {
  explicit Errors(std::uint32_t ranks) : of(ranks) {}
  void add(int rank, const std::string& why) {
    if (!why.empty()) of[rank] += why + "; ";
  }
  std::vector<std::string> of;
};

// Runs `rank_main` on every rank of `world` and expects no rank to add an error.
void run_checked(World& world, const std::function<void(Communicator&, Errors&)>& rank_main) {
  Errors errors(world.size());
  Status run = world.run([&](Communicator& comm) { rank_main(comm, errors); });
  ASSERT_TRUE(run.ok()) << run.to_string();
  for (std::size_t r = 0; r < errors.of.size(); ++r) EXPECT_EQ(errors.of[r], "") << "rank " << r;
}

std::unique_ptr<World> make_world(std::uint32_t ranks, TopologyKind topology,
                                  std::uint32_t switch_slots = 512) {
  FabricOptions o;
  o.ranks = ranks;
  o.topology = topology;
  o.hosts_per_leaf = 4;
  o.switch_slots = switch_slots;
  auto world = World::create(o);
  EXPECT_TRUE(world.ok()) << world.status().to_string();
  return world.ok() ? std::move(*world) : nullptr;
}

TEST(Split, TwoGroupsRankedByKeyRunInnetAndRingConcurrently) {
  auto world = make_world(8, TopologyKind::leaf_spine);
  ASSERT_TRUE(world);
  run_checked(*world, [&](Communicator& comm, Errors& errors) {
    const int r = comm.rank();
    // Even and odd ranks; the key reverses the order inside each group.
    auto sub = comm.split(r % 2, -r);
    if (!sub.ok() || !*sub) return errors.add(r, "split: " + sub.status().to_string());
    Communicator& g = **sub;
    if (g.size() != 4 || g.rank() != (7 - r) / 2 || g.world_rank(g.rank()) != std::uint32_t(r))
      errors.add(r, "rank " + std::to_string(g.rank()) + " of " + std::to_string(g.size()));
    if (!g.innet_available()) errors.add(r, "no tree: " + g.innet_status().to_string());
    // At the same time: the even group on its switches, the odd one by ring.
    errors.add(r, allreduce_exact(g, r % 2 == 0 ? "innet" : "ring"));
    errors.add(r, allreduce_exact(g, r % 2 == 0 ? "ring" : "innet"));
    // The parent still works between and after.
    errors.add(r, allreduce_exact(comm, "innet"));
  });
}

// Ranks are threads there: groups are created and destroyed concurrently.
TEST(Split, GroupsRunConcurrentlyOnTheLiveFabric) {
  FabricOptions o;
  o.fabric = FabricKind::live;
  o.topology = TopologyKind::star;
  o.ranks = 4;
  auto world = World::create(o);
  ASSERT_TRUE(world.ok()) << world.status().to_string();
  run_checked(**world, [&](Communicator& comm, Errors& errors) {
    const int r = comm.rank();
    for (int round = 0; round < 2; ++round) {
      auto sub = comm.split(r / 2, 0);
      if (!sub.ok() || !*sub) return errors.add(r, "split: " + sub.status().to_string());
      errors.add(r, allreduce_exact(**sub, r / 2 == round ? "innet" : "ring"));
      errors.add(r, allreduce_exact(**sub, "auto"));
    }
  });
}

TEST(Split, UnevenGroupsOfThreeAndFive) {
  auto world = make_world(8, TopologyKind::leaf_spine);
  ASSERT_TRUE(world);
  run_checked(*world, [&](Communicator& comm, Errors& errors) {
    const int r = comm.rank();
    auto sub = comm.split(r < 3 ? 7 : 3, 0);
    if (!sub.ok() || !*sub) return errors.add(r, "split: " + sub.status().to_string());
    Communicator& g = **sub;
    if (g.size() != (r < 3 ? 3 : 5) || g.rank() != (r < 3 ? r : r - 3))
      errors.add(r, "rank " + std::to_string(g.rank()) + " of " + std::to_string(g.size()));
    for (const char* algorithm : {"innet", "ring", "rabenseifner", "auto"})
      errors.add(r, allreduce_exact(g, algorithm));
  });
}

TEST(Split, EveryCollectiveWorksOnASubCommunicator) {
  auto world = make_world(8, TopologyKind::leaf_spine);
  ASSERT_TRUE(world);
  run_checked(*world, [&](Communicator& comm, Errors& errors) {
    const int r = comm.rank();
    auto sub = comm.split(r / 5, r);  // ranks 0..4 and 5..7
    if (!sub.ok() || !*sub) return errors.add(r, "split: " + sub.status().to_string());
    Communicator& g = **sub;
    const int n = g.size();
    for (const std::string algorithm : {"innet", "host"}) {
      auto opts = [&](Collective c) {
        return CollectiveOptions{.algorithm = algorithm == "host" ? std::string(host_algorithm(c))
                                                                  : algorithm};
      };
      std::vector<std::int32_t> mine(kCount), out(kCount * n, -1);
      for (std::size_t i = 0; i < kCount; ++i) mine[i] = input(g.world_rank(g.rank()), i);
      const std::vector<std::int32_t> sum = group_sum(g);
      const std::string tag = algorithm + " ";
      Status s = g.reduce(mine.data(), out.data(), kCount, Dtype::i32, ReduceOp::sum, n - 1,
                          opts(Collective::reduce));
      if (!s.ok() || (g.rank() == n - 1 && !std::equal(sum.begin(), sum.end(), out.begin())))
        errors.add(r, tag + "reduce " + s.to_string());
      std::vector<std::int32_t> bcast = mine;
      s = g.broadcast(bcast.data(), kCount, Dtype::i32, 1, opts(Collective::broadcast));
      std::vector<std::int32_t> root(kCount);
      for (std::size_t i = 0; i < kCount; ++i) root[i] = input(g.world_rank(1), i);
      if (!s.ok() || bcast != root) errors.add(r, tag + "broadcast " + s.to_string());
      s = g.barrier(opts(Collective::barrier));
      if (!s.ok()) errors.add(r, tag + "barrier " + s.to_string());
      // Reduce-scatter of n blocks of kCount / n elements: block g.rank() of the sum.
      const std::size_t block = kCount / n;
      std::vector<std::int32_t> part(block, -1);
      s = g.reduce_scatter(mine.data(), part.data(), block, Dtype::i32, ReduceOp::sum,
                           opts(Collective::reduce_scatter));
      if (!s.ok() || !std::equal(part.begin(), part.end(), sum.begin() + g.rank() * block))
        errors.add(r, tag + "reduce_scatter " + s.to_string());
      s = g.allgather(mine.data(), out.data(), kCount, Dtype::i32, opts(Collective::allgather));
      for (int b = 0; s.ok() && b < n; ++b)
        for (std::size_t i = 0; i < kCount; ++i)
          if (out[b * kCount + i] != input(g.world_rank(b), i)) {
            s = make_error(StatusCode::internal, "block " + std::to_string(b) + " differs");
            break;
          }
      if (!s.ok()) errors.add(r, tag + "allgather " + s.to_string());
    }
  });
}

TEST(Split, NegativeColorJoinsNoGroup) {
  auto world = make_world(6, TopologyKind::star);
  ASSERT_TRUE(world);
  run_checked(*world, [&](Communicator& comm, Errors& errors) {
    const int r = comm.rank();
    auto sub = comm.split(r == 2 ? -1 : 0, 0);
    if (!sub.ok()) return errors.add(r, sub.status().to_string());
    if (r == 2) {
      if (*sub) errors.add(r, "got a communicator for color -1");
      return;
    }
    if (!*sub || (*sub)->size() != 5) return errors.add(r, "not in the group of 5");
    errors.add(r, allreduce_exact(**sub, "innet"));
  });
}

// One star switch with room for two trees: the world's and one group's.
TEST(Split, ShortSlotsGiveNoResourceAndComeBackWhenGroupsAreDestroyed) {
  auto world = make_world(8, TopologyKind::star, /*switch_slots=*/128);
  ASSERT_TRUE(world);
  std::vector<int> with_tree(3, 0), without_tree(3, 0);
  run_checked(*world, [&](Communicator& comm, Errors& errors) {
    const int r = comm.rank();
    for (int round = 0; round < 3; ++round) {
      auto sub = comm.split(r % 2, r);
      if (!sub.ok() || !*sub) return errors.add(r, "split: " + sub.status().to_string());
      Communicator& g = **sub;
      if (g.innet_available()) {
        if (g.rank() == 0) ++with_tree[round];
        errors.add(r, allreduce_exact(g, "innet"));
      } else {
        if (g.rank() == 0) ++without_tree[round];
        if (g.innet_status().code() != StatusCode::no_resource)
          errors.add(r, "expected no_resource: " + g.innet_status().to_string());
        std::vector<std::int32_t> x(kCount);
        Status pinned = g.allreduce(x.data(), x.data(), kCount, Dtype::i32, ReduceOp::sum,
                                    {.algorithm = "innet"});
        if (pinned.code() != StatusCode::not_supported)
          errors.add(r, "pinned innet: " + pinned.to_string());
        errors.add(r, allreduce_exact(g, "auto"));  // falls back to a host algorithm
      }
      // Both groups are done with their trees before either is destroyed.
      if (Status s = comm.barrier(); !s.ok())
        errors.add(r, "barrier of round " + std::to_string(round) + ": " + s.to_string());
    }
  });
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(with_tree[round], 1) << "round " << round;
    EXPECT_EQ(without_tree[round], 1) << "round " << round;
  }
}

// A failed collective in a sub-communicator counts in the world's stats
// once the sub-communicator is gone.
TEST(Split, SubCommunicatorFailuresCountInTheWorldStats) {
  auto world = make_world(4, TopologyKind::star);
  ASSERT_TRUE(world);
  const WorldStats before = world->stats();
  run_checked(*world, [&](Communicator& comm, Errors& errors) {
    const int r = comm.rank();
    auto sub = comm.split(0, 0);
    if (!sub.ok() || !*sub) return errors.add(r, "split: " + sub.status().to_string());
    std::vector<std::int32_t> x(12, 1);
    // Rank 0 disagrees on the count: every rank fails with `mismatch`.
    Status s = (*sub)->allreduce(x.data(), x.data(), r == 0 ? 11 : 12, Dtype::i32, ReduceOp::sum,
                                 {.algorithm = "ring"});
    if (s.code() != StatusCode::mismatch) errors.add(r, "expected mismatch: " + s.to_string());
  });
  const WorldStats after = world->stats();
  EXPECT_EQ(after.collectives_failed - before.collectives_failed, 1u);
}

TEST(Split, ARankHoldsAtMostThreeSubCommunicators) {
  auto world = make_world(4, TopologyKind::star);
  ASSERT_TRUE(world);
  run_checked(*world, [&](Communicator& comm, Errors& errors) {
    const int r = comm.rank();
    std::vector<std::unique_ptr<Communicator>> held;
    for (int i = 0; i < Communicator::kMaxSubCommunicators; ++i) {
      auto sub = comm.split(0, 0);
      if (!sub.ok()) return errors.add(r, sub.status().to_string());
      held.push_back(std::move(*sub));
    }
    auto fourth = comm.split(0, 0);
    if (fourth.ok() || fourth.status().code() != StatusCode::no_resource)
      errors.add(r, "a fourth split: " + fourth.status().to_string());
    // Sub-communicators split too, and all of them stay apart.
    for (auto& sub : held) errors.add(r, allreduce_exact(*sub, "ring"));
    held.pop_back();
    auto again = held[0]->split(0, -r);
    if (!again.ok() || !*again)
      return errors.add(r, "after one is gone: " + again.status().to_string());
    errors.add(r, allreduce_exact(**again, "innet"));
  });
}

}  // namespace
}  // namespace inca
