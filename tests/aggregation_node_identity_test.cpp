// Identity contributions (wire::kFlagIdentity): a child that holds nothing of
// a chunk sends its header alone; the engine counts it as arrived, leaves it
// out of the reduction, and sends a header-only partial or result when every
// child did. Header-only results (wire::kFlagHeaderOnly): a child that keeps
// nothing of a chunk is answered with the result's header alone.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "engine/aggregation_node.hpp"
#include "test_support.hpp"

namespace inca::engine {
namespace {

using test::contribution;
using test::result_from_parent;
using test::tree_install;
using test::values_of;

constexpr std::uint16_t kParentPort = 11;
// Child i arrives on kPorts[i], deliberately not port i.
const std::vector<std::uint16_t> kPorts{5, 1, 9};

// A chunk of `count` floats this child holds none of.
wire::Packet identity(std::uint16_t child, std::uint32_t seq, std::size_t count,
                      std::uint8_t flags = 0) {
  wire::Packet p = contribution(child, seq, std::vector<float>(count, 0.0f), 4,
                                static_cast<std::uint8_t>(flags | wire::kFlagIdentity));
  p.payload = nullptr;
  return p;
}

class AggregationNodeIdentityTest : public ::testing::Test {
 protected:
  AggregationNode node_{SwitchConfig{64, 256}};
  std::vector<Emit> out_;

  std::vector<Emit> feed(std::uint16_t port, const wire::Packet& p) {
    out_.clear();
    node_.on_packet(port, p, out_);
    return out_;
  }
  std::vector<Emit> feed_child(const wire::Packet& p) { return feed(kPorts[p.header.child], p); }
};

TEST_F(AggregationNodeIdentityTest, IdentityChildrenAreLeftOutOfTheReduction) {
  ASSERT_TRUE(node_.install(tree_install(kPorts, 4)).ok());
  // The identity child comes first, so the data that follows must start the
  // reduction rather than be added to whatever the slot held.
  EXPECT_TRUE(feed_child(identity(1, 0, 3)).empty());
  EXPECT_TRUE(feed_child(contribution(0, 0, {1.5f, -2, 7})).empty());
  auto emits = feed_child(contribution(2, 0, {0.25f, 8, -7}));
  ASSERT_EQ(emits.size(), 3u);
  for (const Emit& e : emits) {
    EXPECT_FALSE(e.packet.header.has(wire::kFlagIdentity));
    EXPECT_EQ(values_of(e.packet), (std::vector<float>{1.5f + 0.25f, -2.0f + 8, 7.0f + -7}));
  }
  EXPECT_EQ(node_.counters().contributions, 3u);
  EXPECT_EQ(node_.counters().identity_contributions, 1u);
  EXPECT_EQ(node_.counters().drop_mismatch, 0u);
}

TEST_F(AggregationNodeIdentityTest, AllIdentityChildrenMakeAHeaderOnlyPartialAndResult) {
  ASSERT_TRUE(node_.install(tree_install({0, 1}, 4, kParentPort, 2)).ok());
  feed(0, identity(0, 0, 16));
  auto up = feed(1, identity(1, 0, 16));
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].port, kParentPort);
  EXPECT_TRUE(up[0].packet.header.has(wire::kFlagIdentity));
  EXPECT_EQ(up[0].packet.payload, nullptr);
  EXPECT_EQ(up[0].packet.header.count, 16u);
  EXPECT_EQ(up[0].packet.payload_bytes(), 0u);
  EXPECT_EQ(up[0].packet.wire_bytes(), wire::kFramingBytes + wire::kHeaderBytes);

  // The tree above held data: the result carries it down, not the identity flag.
  auto down = feed(kParentPort, result_from_parent(0, std::vector<float>(16, 2.5f)));
  ASSERT_EQ(down.size(), 2u);
  for (const Emit& e : down) {
    EXPECT_FALSE(e.packet.header.has(wire::kFlagIdentity));
    EXPECT_EQ(values_of(e.packet), std::vector<float>(16, 2.5f));
  }
  // A child that lost it is answered from the kept copy, with the data.
  auto again = feed(0, identity(0, 0, 16));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_FALSE(again[0].packet.header.has(wire::kFlagIdentity));
  EXPECT_EQ(values_of(again[0].packet), std::vector<float>(16, 2.5f));
}

TEST_F(AggregationNodeIdentityTest, AnIdentityRootResultIsMulticastAsOne) {
  ASSERT_TRUE(node_.install(tree_install(kPorts, 4)).ok());
  for (std::uint16_t c = 0; c < 2; ++c) feed_child(identity(c, 0, 5));
  auto emits = feed_child(identity(2, 0, 5));
  ASSERT_EQ(emits.size(), 3u);
  for (const Emit& e : emits) {
    EXPECT_TRUE(e.packet.header.has(wire::kFlagIdentity));
    EXPECT_EQ(e.packet.header.count, 5u);
    EXPECT_EQ(e.packet.payload, nullptr);
  }
  // The next chunk on the same set starts clean: data, no identity flag.
  for (std::uint16_t c = 0; c < 2; ++c) feed_child(contribution(c, 8, {1, 2}));
  auto next = feed_child(contribution(2, 8, {4, 8}));
  ASSERT_EQ(next.size(), 3u);
  EXPECT_FALSE(next[0].packet.header.has(wire::kFlagIdentity));
  EXPECT_EQ(values_of(next[0].packet), (std::vector<float>{6, 12}));
}

// Reproducible mode folds the data children in child order; an identity
// child in between must not hold the fold up.
TEST_F(AggregationNodeIdentityTest, ReproducibleOrderSkipsIdentityChildren) {
  ASSERT_TRUE(node_.install(tree_install(kPorts, 4)).ok());
  // (1e8 + 1) - 1e8 == 0 in f32, but (-1e8 + 1e8) + 1 == 1: child order shows.
  std::array<std::uint16_t, 3> order{0, 1, 2};
  std::uint32_t seq = 0;
  do {
    std::vector<Emit> last;
    for (std::uint16_t c : order) {
      const wire::Packet p =
          c == 1 ? identity(1, seq, 1, wire::kFlagReproducible)
                 : contribution(c, seq, {c == 0 ? 1e8f + 1 : -1e8f}, 4, wire::kFlagReproducible);
      last = feed_child(p);
    }
    ASSERT_EQ(last.size(), 3u);
    EXPECT_EQ(values_of(last[0].packet), std::vector<float>{(1e8f + 1) + -1e8f})
        << "arrival " << order[0] << order[1] << order[2];
    ++seq;
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST_F(AggregationNodeIdentityTest, ChildrenStillAgreeOnTheChunk) {
  ASSERT_TRUE(node_.install(tree_install(kPorts, 4)).ok());
  // An identity child announcing another length fails the chunk for everyone.
  feed_child(contribution(0, 0, {1, 2, 3}));
  EXPECT_EQ(feed_child(identity(1, 0, 4)).size(), 3u);
  EXPECT_EQ(node_.counters().drop_mismatch, 1u);
  // One announcing more than a slot holds is oversize, carried or not.
  feed_child(contribution(0, 1, {1}));
  EXPECT_TRUE(feed_child(identity(1, 1, 65)).empty());
  EXPECT_EQ(node_.counters().drop_oversize, 1u);
  // Identity does not paper over data and timing-only children mixing.
  feed_child(identity(0, 2, 2));
  wire::Packet timing = contribution(1, 2, {0, 0});
  timing.payload = nullptr;
  feed_child(timing);
  EXPECT_EQ(feed_child(contribution(2, 2, {1, 1})).size(), 3u);
  EXPECT_EQ(node_.counters().drop_mismatch, 2u);
}

// A contribution asking for a header-only answer.
wire::Packet keeps_nothing(std::uint16_t child, std::uint32_t seq, std::vector<float> values) {
  return contribution(child, seq, values, 4, wire::kFlagHeaderOnly);
}

TEST_F(AggregationNodeIdentityTest, ChildrenThatKeepNothingAreAnsweredWithTheHeaderAlone) {
  ASSERT_TRUE(node_.install(tree_install(kPorts, 4)).ok());
  feed_child(keeps_nothing(0, 0, {1, 2}));
  feed_child(contribution(1, 0, {10, 20}));  // the root of a reduce
  auto emits = feed_child(keeps_nothing(2, 0, {100, 200}));
  ASSERT_EQ(emits.size(), 3u);
  for (const Emit& e : emits) {
    const bool keeps = e.child == 1;
    EXPECT_EQ(e.packet.header.has(wire::kFlagHeaderOnly), !keeps) << e.child;
    EXPECT_EQ(e.packet.payload_bytes(), keeps ? 8u : 0u) << e.child;
    if (keeps) {
      EXPECT_EQ(values_of(e.packet), (std::vector<float>{111, 222}));
    }
  }
  EXPECT_EQ(node_.counters().results_sent, 3u);
  EXPECT_EQ(node_.counters().header_only_results, 2u);
  // A child that lost its answer gets the same kind again from the kept result.
  auto again = feed_child(keeps_nothing(0, 0, {1, 2}));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].packet.header.has(wire::kFlagHeaderOnly));
  auto root_again = feed_child(contribution(1, 0, {10, 20}));
  ASSERT_EQ(root_again.size(), 1u);
  EXPECT_EQ(values_of(root_again[0].packet), (std::vector<float>{111, 222}));
  EXPECT_EQ(node_.counters().header_only_results, 3u);
}

TEST_F(AggregationNodeIdentityTest, ASubtreeThatKeepsNothingAsksItsParentForTheHeaderAlone) {
  ASSERT_TRUE(node_.install(tree_install({0, 1}, 4, kParentPort, 2)).ok());
  feed(0, keeps_nothing(0, 0, {1}));
  auto up = feed(1, keeps_nothing(1, 0, {2}));
  ASSERT_EQ(up.size(), 1u);
  EXPECT_TRUE(up[0].packet.header.has(wire::kFlagHeaderOnly));
  EXPECT_EQ(values_of(up[0].packet), std::vector<float>{3});  // the partial still carries data
  wire::Packet bare = result_from_parent(0, {9});
  bare.header.flags |= wire::kFlagHeaderOnly;
  bare.payload = nullptr;
  auto down = feed(kParentPort, bare);
  ASSERT_EQ(down.size(), 2u);
  for (const Emit& e : down) EXPECT_TRUE(e.packet.header.has(wire::kFlagHeaderOnly));
  EXPECT_EQ(node_.counters().header_only_results, 2u);

  // Where one child keeps the data, the partial asks for it, and a bare
  // answer from the parent is not this subtree's: dropped.
  feed(0, keeps_nothing(0, 1, {1}));
  auto up2 = feed(1, contribution(1, 1, {2}));
  ASSERT_EQ(up2.size(), 1u);
  EXPECT_FALSE(up2[0].packet.header.has(wire::kFlagHeaderOnly));
  wire::Packet wrong = result_from_parent(1, {3});
  wrong.header.flags |= wire::kFlagHeaderOnly;
  wrong.payload = nullptr;
  EXPECT_TRUE(feed(kParentPort, wrong).empty());
  EXPECT_EQ(node_.counters().drop_mismatch, 1u);
  auto real = feed(kParentPort, result_from_parent(1, {3}));
  ASSERT_EQ(real.size(), 2u);
  EXPECT_TRUE(real[0].packet.header.has(wire::kFlagHeaderOnly));
  EXPECT_FALSE(real[1].packet.header.has(wire::kFlagHeaderOnly));
  EXPECT_EQ(values_of(real[1].packet), std::vector<float>{3});
}

}  // namespace
}  // namespace inca::engine
