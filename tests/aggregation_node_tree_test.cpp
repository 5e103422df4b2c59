// The aggregation engine as part of a tree: two levels of nodes wired by hand
// so partials meet at the root and results fan out to every host, and the
// install/remove checks that keep trees from sharing slots.
#include <gtest/gtest.h>

#include <map>
#include <utility>
#include <vector>

#include "engine/aggregation_node.hpp"
#include "test_support.hpp"

namespace inca::engine {
namespace {

using test::contribution;
using test::tree_install;
using test::values_of;

constexpr auto kJob = test::kTestJob;
constexpr auto kTree = test::kTestTree;

// Child i arrives on kPorts[i], deliberately not port i.
const std::vector<std::uint16_t> kPorts{5, 1, 9};

// Two leaves under a root, wired by hand: each emit is delivered to the node
// on the other end until nothing is left, as a fabric would.
TEST(AggregationNodeTwoLevel, PartialsMeetAtTheRootAndResultsReachEveryHost) {
  constexpr std::uint16_t kUp = 2;  // each leaf: hosts on ports 0 and 1, the root on 2
  AggregationNode leaves[2] = {AggregationNode(SwitchConfig{16, 64}),
                               AggregationNode(SwitchConfig{16, 64})};
  AggregationNode root(SwitchConfig{16, 64});
  for (std::uint16_t l = 0; l < 2; ++l) {
    wire::TreeInstall t = tree_install({0, 1}, 2, kUp, l);
    ASSERT_TRUE(leaves[l].install(t).ok());
  }
  ASSERT_TRUE(root.install(tree_install({4, 3}, 2)).ok());  // leaf l on root port 4 - l

  std::map<std::pair<int, std::uint16_t>, std::vector<float>> at_host;  // (leaf, port)
  std::vector<Emit> out;
  auto run_from_leaf = [&](int leaf, std::uint16_t port, const wire::Packet& p) {
    out.clear();
    leaves[leaf].on_packet(port, p, out);
    std::vector<std::pair<int, Emit>> queue;
    for (Emit& e : out) queue.emplace_back(leaf, std::move(e));
    while (!queue.empty()) {
      auto [from, e] = std::move(queue.back());
      queue.pop_back();
      if (from >= 0 && e.port == kUp) {  // leaf -> root
        std::vector<Emit> r;
        root.on_packet(static_cast<std::uint16_t>(4 - from), e.packet, r);
        for (Emit& down : r) queue.emplace_back(-1, std::move(down));
      } else if (from == -1) {  // root -> leaf (4 - port) arriving on its uplink
        const int to = 4 - e.port;
        std::vector<Emit> r;
        leaves[to].on_packet(kUp, e.packet, r);
        for (Emit& down : r) queue.emplace_back(to, std::move(down));
      } else {
        at_host[{from, e.port}] = values_of(e.packet);
      }
    }
  };
  run_from_leaf(0, 0, contribution(0, 1, {1, 2}, 2));
  run_from_leaf(1, 1, contribution(1, 1, {30, 40}, 2));
  run_from_leaf(1, 0, contribution(0, 1, {500, 600}, 2));
  EXPECT_TRUE(at_host.empty());
  run_from_leaf(0, 1, contribution(1, 1, {7000, 8000}, 2));
  ASSERT_EQ(at_host.size(), 4u);
  for (const auto& [where, values] : at_host) EXPECT_EQ(values, (std::vector<float>{7531, 8642}));
  EXPECT_EQ(root.counters().contributions, 2u);
  EXPECT_EQ(root.counters().results_sent, 2u);
  EXPECT_EQ(leaves[0].counters().partials_sent, 1u);
  EXPECT_EQ(leaves[1].counters().results_sent, 2u);
}

TEST(AggregationNodeInstall, RejectsBadTreesWithTheRightStatus) {
  AggregationNode node(SwitchConfig{100, 256});
  wire::TreeInstall a = tree_install(kPorts, 40);
  ASSERT_TRUE(node.install(a).ok());
  EXPECT_EQ(node.free_slots(), 60u);

  wire::TreeInstall overlap = a;
  overlap.tree = 4;
  overlap.slot_base = 39;
  overlap.slot_count = 10;
  EXPECT_EQ(node.install(overlap).code(), StatusCode::no_resource);

  wire::TreeInstall beyond = a;
  beyond.tree = 5;
  beyond.slot_base = 90;
  beyond.slot_count = 11;
  EXPECT_EQ(node.install(beyond).code(), StatusCode::no_resource);

  wire::TreeInstall orphan = a;
  orphan.tree = 6;
  orphan.slot_base = 40;
  orphan.child_ports.clear();
  EXPECT_EQ(node.install(orphan).code(), StatusCode::invalid_argument);

  wire::TreeInstall big = a;
  big.tree = 7;
  big.slot_base = 40;
  big.slot_payload_bytes = 257;
  const Status too_big = node.install(big);
  EXPECT_EQ(too_big.code(), StatusCode::no_resource);
  EXPECT_NE(too_big.message().find("256"), std::string::npos) << too_big.message();

  wire::TreeInstall empty = a;
  empty.tree = 8;
  empty.slot_base = 40;
  empty.slot_count = 0;
  EXPECT_EQ(node.install(empty).code(), StatusCode::invalid_argument);

  EXPECT_EQ(node.install(a).code(), StatusCode::invalid_argument);  // already installed
  EXPECT_EQ(node.free_slots(), 60u);                                // nothing leaked

  wire::TreeInstall adjacent = a;
  adjacent.tree = 9;
  adjacent.slot_base = 40;
  adjacent.slot_count = 60;
  ASSERT_TRUE(node.install(adjacent).ok());
  EXPECT_EQ(node.free_slots(), 0u);
}

TEST(AggregationNodeInstall, RemoveFreesSlotsAndForgetsTheTree) {
  AggregationNode node(SwitchConfig{100, 256});
  wire::TreeInstall t = tree_install(kPorts, 30);
  ASSERT_TRUE(node.install(t).ok());
  EXPECT_EQ(node.free_slots(), 70u);
  EXPECT_FALSE(node.remove({kJob, static_cast<std::uint16_t>(kTree + 1)}).ok());
  EXPECT_FALSE(node.remove({kJob + 1, kTree}).ok());
  ASSERT_TRUE(node.remove({kJob, kTree}).ok());
  EXPECT_EQ(node.free_slots(), 100u);
  EXPECT_FALSE(node.remove({kJob, kTree}).ok());

  std::vector<Emit> out;
  node.on_packet(kPorts[0], contribution(0, 0, {1}), out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(node.counters().drop_unknown_tree, 1u);
  ASSERT_TRUE(node.install(t).ok());  // the range is free again
}

}  // namespace
}  // namespace inca::engine
