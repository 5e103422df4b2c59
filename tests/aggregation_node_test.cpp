// The switch aggregation engine driven directly with hand-built packets: exact
// reductions, partials up and results down, the duplicate rules of every slot
// state, shadow sets, every drop counter, reproducible child-order folding,
// and timing-only packets. Trees and installs: aggregation_node_tree_test.cpp.
#include "engine/aggregation_node.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "wire/error_payload.hpp"

namespace inca::engine {
namespace {

using test::contribution;
using test::from_bytes;
using test::payload_of;
using test::result_from_parent;
using test::values_of;

constexpr std::uint16_t kParentPort = 11;
constexpr std::uint16_t kIndexAtParent = 2;

constexpr auto kJob = test::kTestJob;
constexpr auto kKey = test::kTestKey;
constexpr auto kTree = test::kTestTree;

// Child i arrives on kPorts[i]: deliberately not 0..n-1, so a test that mixes
// up child index and port fails.
const std::vector<std::uint16_t> kPorts{5, 1, 9};

wire::TreeInstall tree_install(std::vector<std::uint16_t> ports, std::uint16_t window,
                               std::uint16_t parent = wire::kNoPort) {
  return test::tree_install(std::move(ports), window, parent,
                            parent == wire::kNoPort ? 0 : kIndexAtParent);
}

// Every counter by name, so a test can say "exactly this one moved". The structured binding must
// name every field of EngineCounters, in order: a field added there and not here stops the build.
std::map<std::string, std::uint64_t> counter_map(const EngineCounters& c) {
  const auto& [packets_in, contributions, identity_contributions, duplicates, duplicate_answers,
               partial_reforwards, partials_sent, results, results_sent, header_only_results,
               slot_full, stale, results_in, results_repeated, refused, refused_caps, errors_in,
               errors_sent, drop_unknown_tree, drop_bad_key, drop_bad_child, drop_bad_slot,
               drop_mismatch, drop_oversize, drop_bad_type, drop_malformed] = c;
  return {{"packets_in", packets_in},
          {"contributions", contributions},
          {"identity_contributions", identity_contributions},
          {"duplicates", duplicates},
          {"duplicate_answers", duplicate_answers},
          {"partial_reforwards", partial_reforwards},
          {"partials_sent", partials_sent},
          {"results", results},
          {"results_sent", results_sent},
          {"header_only_results", header_only_results},
          {"slot_full", slot_full},
          {"stale", stale},
          {"results_in", results_in},
          {"results_repeated", results_repeated},
          {"refused", refused},
          {"refused_caps", refused_caps},
          {"errors_in", errors_in},
          {"errors_sent", errors_sent},
          {"drop_unknown_tree", drop_unknown_tree},
          {"drop_bad_key", drop_bad_key},
          {"drop_bad_child", drop_bad_child},
          {"drop_bad_slot", drop_bad_slot},
          {"drop_mismatch", drop_mismatch},
          {"drop_oversize", drop_oversize},
          {"drop_bad_type", drop_bad_type},
          {"drop_malformed", drop_malformed}};
}

class AggregationNodeTest : public ::testing::Test {
 protected:
  AggregationNode node_{SwitchConfig{64, 256}};
  std::vector<Emit> out_;

  void install(const wire::TreeInstall& t) { ASSERT_TRUE(node_.install(t).ok()); }
  // Feeds one packet and returns what the node emitted for it.
  std::vector<Emit> feed(std::uint16_t port, const wire::Packet& p) {
    out_.clear();
    node_.on_packet(port, p, out_);
    return out_;
  }
  std::vector<Emit> feed_child(const wire::Packet& p) { return feed(kPorts[p.header.child], p); }
  // Feeds a packet that must be dropped silently into exactly counter `name`.
  void expect_dropped_into(std::uint16_t port, const wire::Packet& p, const std::string& name) {
    auto before = counter_map(node_.counters());
    EXPECT_TRUE(feed(port, p).empty()) << name;
    ++before[name];
    ++before["packets_in"];
    EXPECT_EQ(counter_map(node_.counters()), before) << "expected only " << name << " to move";
    // And the node says which check refused it.
    ASSERT_NE(node_.dropped_as(), nullptr) << name;
    EngineCounters only{};
    ++(only.*node_.dropped_as());
    EXPECT_EQ(counter_map(only)[name], 1u) << name;
  }
};

TEST_F(AggregationNodeTest, RootMulticastsTheExactSumToEveryChildOnceAllArrive) {
  install(tree_install(kPorts, 4));
  EXPECT_TRUE(feed_child(contribution(0, 0, {1.5f, -2, 1e6f})).empty());
  EXPECT_TRUE(feed_child(contribution(2, 0, {0.25f, 8, 3})).empty());
  auto emits = feed_child(contribution(1, 0, {4, 0.5f, -1e6f}));

  ASSERT_EQ(emits.size(), 3u);
  for (std::size_t i = 0; i < emits.size(); ++i) {
    EXPECT_EQ(emits[i].port, kPorts[i]);
    const wire::Header& h = emits[i].packet.header;
    EXPECT_EQ(h.type, wire::PacketType::result);
    EXPECT_EQ(h.sequence, 0u);
    EXPECT_EQ(h.slot, 0u);
    EXPECT_FALSE(h.shadow);
    EXPECT_EQ(h.count, 3u);
    EXPECT_EQ(h.dtype, Dtype::f32);
    EXPECT_EQ(h.job, kJob);
    EXPECT_EQ(h.key_tag, kKey);
    // Arrival order 0, 2, 1: ((a0 + a2) + a1), computed here the same way.
    EXPECT_EQ(values_of(emits[i].packet),
              (std::vector<float>{(1.5f + 0.25f) + 4, (-2.0f + 8) + 0.5f, (1e6f + 3) + -1e6f}));
    // One buffer referenced by every copy of the multicast.
    EXPECT_EQ(emits[i].packet.payload, emits[0].packet.payload);
  }
  const EngineCounters& c = node_.counters();
  EXPECT_EQ(c.contributions, 3u);
  EXPECT_EQ(c.results, 1u);
  EXPECT_EQ(c.results_sent, 3u);
  EXPECT_EQ(c.partials_sent, 0u);
}

TEST_F(AggregationNodeTest, NonRootSendsItsPartialUpAndMulticastsTheParentsResult) {
  install(tree_install({0, 1}, 4, kParentPort));
  EXPECT_TRUE(feed(0, contribution(0, 1, {1, 2}, 4, wire::kFlagLast)).empty());
  auto up = feed(1, contribution(1, 1, {10, 20}, 4, wire::kFlagLast));
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].port, kParentPort);
  EXPECT_EQ(up[0].packet.header.type, wire::PacketType::contribution);
  EXPECT_EQ(up[0].packet.header.child, kIndexAtParent);
  EXPECT_EQ(up[0].packet.header.sequence, 1u);
  EXPECT_EQ(up[0].packet.header.slot, 1u);
  EXPECT_TRUE(up[0].packet.header.has(wire::kFlagLast));
  EXPECT_EQ(values_of(up[0].packet), (std::vector<float>{11, 22}));
  EXPECT_EQ(node_.counters().partials_sent, 1u);
  EXPECT_EQ(node_.counters().results, 0u);

  auto down = feed(kParentPort, result_from_parent(1, {111, 222}));
  ASSERT_EQ(down.size(), 2u);
  for (std::uint16_t i = 0; i < 2; ++i) {
    EXPECT_EQ(down[i].port, i);
    EXPECT_EQ(down[i].packet.header.type, wire::PacketType::result);
    EXPECT_EQ(down[i].packet.header.sequence, 1u);
    EXPECT_EQ(values_of(down[i].packet), (std::vector<float>{111, 222}));
  }
  EXPECT_EQ(node_.counters().results, 1u);
  EXPECT_EQ(node_.counters().results_sent, 2u);
}

TEST_F(AggregationNodeTest, DuplicateBeforeCompletionIsDroppedNotAddedTwice) {
  install(tree_install(kPorts, 4));
  feed_child(contribution(0, 0, {1}));
  // A retransmission carries the same child bit; even with other data it
  // must not be folded in.
  EXPECT_TRUE(feed_child(contribution(0, 0, {100})).empty());
  EXPECT_EQ(node_.counters().duplicates, 1u);
  EXPECT_EQ(node_.counters().duplicate_answers, 0u);
  feed_child(contribution(1, 0, {2}));
  auto emits = feed_child(contribution(2, 0, {4}));
  ASSERT_EQ(emits.size(), 3u);
  EXPECT_EQ(values_of(emits[0].packet), std::vector<float>{7});
  EXPECT_EQ(node_.counters().contributions, 3u);
}

TEST_F(AggregationNodeTest, DuplicateAfterCompletionAtRootIsAnsweredByUnicastFromTheKeptResult) {
  install(tree_install(kPorts, 4));
  feed_child(contribution(0, 2, {1}));
  feed_child(contribution(1, 2, {2}));
  auto multicast = feed_child(contribution(2, 2, {4}));
  ASSERT_EQ(multicast.size(), 3u);

  auto answer = feed_child(contribution(1, 2, {50}));
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_EQ(answer[0].port, kPorts[1]);
  EXPECT_EQ(answer[0].packet.header.type, wire::PacketType::result);
  EXPECT_EQ(answer[0].packet.header.sequence, 2u);
  EXPECT_EQ(answer[0].packet.payload, multicast[0].packet.payload);
  const EngineCounters& c = node_.counters();
  EXPECT_EQ(c.duplicates, 1u);
  EXPECT_EQ(c.duplicate_answers, 1u);
  EXPECT_EQ(c.contributions, 3u);
  EXPECT_EQ(c.results, 1u);
  EXPECT_EQ(c.results_sent, 4u);
}

TEST_F(AggregationNodeTest, DuplicateAtNonRootReforwardsThePartialThenAnswersFromTheResult) {
  install(tree_install({0, 1}, 4, kParentPort));
  feed(0, contribution(0, 0, {1}));
  auto up = feed(1, contribution(1, 0, {2}));
  ASSERT_EQ(up.size(), 1u);

  // The child timed out: our partial or the parent's result was lost.
  auto again = feed(0, contribution(0, 0, {1}));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].port, kParentPort);
  EXPECT_EQ(again[0].packet.header.type, wire::PacketType::contribution);
  EXPECT_EQ(again[0].packet.header.child, kIndexAtParent);
  EXPECT_EQ(again[0].packet.payload, up[0].packet.payload);
  EXPECT_EQ(node_.counters().partial_reforwards, 1u);
  EXPECT_EQ(node_.counters().partials_sent, 1u);

  feed(kParentPort, result_from_parent(0, {3}));
  auto answer = feed(1, contribution(1, 0, {2}));
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_EQ(answer[0].port, 1u);
  EXPECT_EQ(answer[0].packet.header.type, wire::PacketType::result);
  EXPECT_EQ(values_of(answer[0].packet), std::vector<float>{3});
  EXPECT_EQ(node_.counters().duplicate_answers, 1u);
  EXPECT_EQ(node_.counters().duplicates, 2u);
}

TEST_F(AggregationNodeTest, RepeatedResultFromParentIsNotMulticastAgain) {
  install(tree_install({0, 1}, 4, kParentPort));
  feed(0, contribution(0, 0, {1}));
  feed(1, contribution(1, 0, {2}));
  ASSERT_EQ(feed(kParentPort, result_from_parent(0, {3})).size(), 2u);
  // The parent answered a re-forwarded partial after the first result came
  // through: every child had the multicast, and one that lost it is answered
  // from the kept first result when it retransmits.
  EXPECT_TRUE(feed(kParentPort, result_from_parent(0, {999})).empty());
  EXPECT_EQ(node_.counters().results, 1u);
  EXPECT_EQ(node_.counters().results_repeated, 1u);
  EXPECT_EQ(node_.counters().results_sent, 2u);
  auto answer = feed(1, contribution(1, 0, {2}));
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_EQ(values_of(answer[0].packet), std::vector<float>{3});
}

TEST_F(AggregationNodeTest, OneReforwardPerRoundOfDuplicates) {
  install(tree_install(kPorts, 4, kParentPort));
  for (std::uint16_t c = 0; c < 3; ++c) feed_child(contribution(c, 0, {1}));
  // Every child times out on the same lost result: one re-forward serves them.
  EXPECT_EQ(feed_child(contribution(0, 0, {1})).size(), 1u);
  EXPECT_TRUE(feed_child(contribution(1, 0, {1})).empty());
  EXPECT_TRUE(feed_child(contribution(2, 0, {1})).empty());
  // Child 1's next timeout starts a new round.
  EXPECT_EQ(feed_child(contribution(1, 0, {1})).size(), 1u);
  EXPECT_EQ(node_.counters().partial_reforwards, 2u);
  EXPECT_EQ(node_.counters().duplicates, 4u);
}

TEST_F(AggregationNodeTest, ShadowSetsSeparateChunksOneWindowApartAndGuardLiveState) {
  constexpr std::uint16_t kWindow = 2;
  install(tree_install({0, 1}, kWindow));
  auto child = [&](std::uint16_t c, std::uint32_t seq, float v) {
    return feed(c, contribution(c, seq, {v}, kWindow));
  };
  // seq 0 -> slot 0 set 0; seq 2 -> slot 0 set 1; seq 4 -> slot 0 set 0 again.
  EXPECT_TRUE(child(0, 0, 1).empty());
  EXPECT_TRUE(child(0, 4, 1000).empty());  // set 0 is still collecting seq 0
  EXPECT_EQ(node_.counters().slot_full, 1u);

  EXPECT_TRUE(child(0, 2, 10).empty());
  auto r2 = child(1, 2, 20);
  ASSERT_EQ(r2.size(), 2u);
  EXPECT_EQ(r2[0].packet.header.sequence, 2u);
  EXPECT_TRUE(r2[0].packet.header.shadow);
  EXPECT_EQ(values_of(r2[0].packet), std::vector<float>{30});

  auto r0 = child(1, 0, 2);
  ASSERT_EQ(r0.size(), 2u);
  EXPECT_FALSE(r0[0].packet.header.shadow);
  EXPECT_EQ(values_of(r0[0].packet), std::vector<float>{3});  // untouched by seq 4

  // Set 0 is done, so seq 4 may now take it over.
  EXPECT_TRUE(child(0, 4, 100).empty());
  auto r4 = child(1, 4, 200);
  ASSERT_EQ(r4.size(), 2u);
  EXPECT_EQ(values_of(r4[0].packet), std::vector<float>{300});
  EXPECT_EQ(node_.counters().slot_full, 1u);
  EXPECT_EQ(node_.counters().results, 3u);
}

TEST_F(AggregationNodeTest, OlderChunkOnAReusedSetIsStale) {
  constexpr std::uint16_t kWindow = 2;
  install(tree_install({0, 1}, kWindow, kParentPort));
  for (std::uint32_t seq : {0u, 4u}) {
    feed(0, contribution(0, seq, {1}, kWindow));
    feed(1, contribution(1, seq, {1}, kWindow));
    feed(kParentPort, result_from_parent(seq, {2}, kWindow));
  }
  expect_dropped_into(0, contribution(0, 0, {1}, kWindow), "stale");
  expect_dropped_into(kParentPort, result_from_parent(0, {2}, kWindow), "stale");
}

TEST_F(AggregationNodeTest, ResultForAChunkStillCollectingIsStale) {
  install(tree_install({0, 1}, 4, kParentPort));
  feed(0, contribution(0, 0, {1}));
  expect_dropped_into(kParentPort, result_from_parent(0, {2}), "stale");
}

TEST_F(AggregationNodeTest, SequencesWrapAroundSerially) {
  constexpr std::uint16_t kWindow = 2;
  install(tree_install({0, 1}, kWindow));
  // 0xfffffffe and 2 (= 0xfffffffe + 4) both map to slot 0, set 1.
  const std::uint32_t before_wrap = 0xfffffffeu;
  feed(0, contribution(0, before_wrap, {1}, kWindow));
  ASSERT_EQ(feed(1, contribution(1, before_wrap, {1}, kWindow)).size(), 2u);
  feed(0, contribution(0, 2, {5}, kWindow));
  auto r = feed(1, contribution(1, 2, {6}, kWindow));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(values_of(r[0].packet), std::vector<float>{11});
  EXPECT_EQ(node_.counters().stale, 0u);
}

TEST_F(AggregationNodeTest, EveryMalformedContributionIsDroppedIntoItsOwnCounter) {
  install(tree_install(kPorts, 4));
  wire::Packet p = contribution(0, 0, {1, 2});

  wire::Packet bad_key = p;
  bad_key.header.key_tag ^= 1;
  expect_dropped_into(kPorts[0], bad_key, "drop_bad_key");

  wire::Packet other_tree = p;
  other_tree.header.tree = kTree + 1;
  expect_dropped_into(kPorts[0], other_tree, "drop_unknown_tree");
  wire::Packet other_job = p;
  other_job.header.job = kJob + 1;
  expect_dropped_into(kPorts[0], other_job, "drop_unknown_tree");

  expect_dropped_into(kPorts[1], p, "drop_bad_child");  // child 0 on child 1's port
  wire::Packet no_such_child = p;
  no_such_child.header.child = 3;
  expect_dropped_into(kPorts[2], no_such_child, "drop_bad_child");

  // The tree has slots 0..3 (window 4); slot 4 is the next tree's, or none.
  for (const std::uint16_t slot : {4, 0x7fff}) {
    wire::Packet outside = p;
    outside.header.slot = slot;
    expect_dropped_into(kPorts[0], outside, "drop_bad_slot");
    outside.header.type = wire::PacketType::result;
    expect_dropped_into(kPorts[0], outside, "drop_bad_slot");
  }

  // 17 floats = 68 B, over the tree's 64 B slots.
  expect_dropped_into(kPorts[0], contribution(0, 0, std::vector<float>(17, 1.0f)), "drop_oversize");

  wire::Packet not_aggregation = p;
  not_aggregation.header.type = wire::PacketType::p2p;
  expect_dropped_into(kPorts[0], not_aggregation, "drop_bad_type");

  // The first accepted contribution fixes the chunk's shape. One that differs
  // (dtype, op, count, flags) fails the chunk: no result can be exact, so the
  // root tells every child with an `error` packet (mismatch) instead of
  // dropping it silently and leaving the ranks to time out.
  wire::Packet dtype = contribution(1, 0, {1, 2});
  dtype.header.dtype = Dtype::i32;
  wire::Packet op = contribution(1, 1, {1, 2});
  op.header.op = ReduceOp::max;
  const wire::Packet mismatched[] = {dtype, op, contribution(1, 2, {1, 2, 3}),
                                     contribution(1, 3, {1, 2}, 4, wire::kFlagReproducible)};
  for (const wire::Packet& bad : mismatched) {
    const std::uint32_t seq = bad.header.sequence;
    ASSERT_TRUE(feed(kPorts[0], contribution(0, seq, {1, 2})).empty());
    const auto before = node_.counters().drop_mismatch;
    auto errors = feed(kPorts[1], bad);
    EXPECT_EQ(node_.counters().drop_mismatch, before + 1) << seq;
    ASSERT_EQ(errors.size(), kPorts.size()) << seq;
    for (std::size_t i = 0; i < errors.size(); ++i) {
      EXPECT_EQ(errors[i].port, kPorts[i]);
      EXPECT_EQ(errors[i].packet.header.type, wire::PacketType::error);
      EXPECT_EQ(errors[i].packet.header.sequence, static_cast<std::uint32_t>(StatusCode::mismatch));
    }
    // The rest of the chunk is refused with the same error, never aggregated.
    auto refused = feed(kPorts[2], contribution(2, seq, {100, 200}));
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].port, kPorts[2]);
    EXPECT_EQ(refused[0].packet.header.type, wire::PacketType::error);
  }
  EXPECT_EQ(node_.counters().results, 0u);
  EXPECT_EQ(node_.counters().refused, 4u);
}

// A switch refuses what it cannot aggregate, whatever the hosts were told:
// the sender alone hears not_supported at once (no timeout), and the slot is
// not touched, so the same chunk in a pair the switch has completes exactly.
TEST(AggregationNodeCaps, AContributionOutsideTheSwitchsCapsIsAnsweredToItsSenderOnly) {
  AggregationNode node({64, 256, "leaf3", SwitchCaps{}.without(ReduceOp::max)});
  ASSERT_TRUE(node.install(tree_install(kPorts, 4)).ok());
  std::vector<Emit> out;
  wire::Packet max = contribution(1, 0, {7, 8});
  max.header.op = ReduceOp::max;
  auto before = counter_map(node.counters());
  node.on_packet(kPorts[1], max, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].port, kPorts[1]);
  EXPECT_EQ(out[0].child, 1u);
  const wire::Header& h = out[0].packet.header;
  EXPECT_EQ(h.type, wire::PacketType::error);
  EXPECT_EQ(h.sequence, static_cast<std::uint32_t>(StatusCode::not_supported));
  EXPECT_EQ(h.job, kJob);
  EXPECT_EQ(h.key_tag, kKey);
  EXPECT_EQ(h.slot, 0u);
  auto error = wire::parse_error_payload(out[0].packet.payload_span());
  ASSERT_TRUE(error);
  EXPECT_EQ(error->chunk_sequence, 0u);
  EXPECT_EQ(error->message, "switch leaf3: tree " + std::to_string(kTree) +
                                " does not aggregate f32 max; this switch aggregates " +
                                SwitchCaps{}.without(ReduceOp::max).describe());
  for (const char* moved : {"packets_in", "refused_caps", "errors_sent"}) ++before[moved];
  EXPECT_EQ(counter_map(node.counters()), before);

  // A forged one from the wrong port is dropped as such, never answered.
  out.clear();
  node.on_packet(kPorts[2], max, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(node.counters().drop_bad_child, 1u);

  for (std::uint16_t c = 0; c < 3; ++c) {
    out.clear();
    node.on_packet(kPorts[c], contribution(c, 0, {1.0f + c, 2}), out);
  }
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(values_of(out[0].packet), (std::vector<float>{6, 6}));  // (1 + 2) + 3, 2 + 2 + 2
  EXPECT_EQ(node.counters().packets_in, classified_packets(node.counters()));
}

TEST_F(AggregationNodeTest, ResultsAreAcceptedOnlyFromTheParentPort) {
  install(tree_install({0, 1}, 4, kParentPort));
  feed(0, contribution(0, 0, {1}));
  feed(1, contribution(1, 0, {2}));
  expect_dropped_into(0, result_from_parent(0, {3}), "drop_bad_child");
  ASSERT_EQ(feed(kParentPort, result_from_parent(0, {3})).size(), 2u);
}

TEST_F(AggregationNodeTest, ResultAtTheRootIsDropped) {
  install(tree_install(kPorts, 4));
  expect_dropped_into(kPorts[0], result_from_parent(0, {3}), "drop_bad_child");
}

// Reproducible mode folds in child order whatever the arrival order. The data
// makes the order visible in f32: (1e8 + 1) - 1e8 == 0 but (1e8 - 1e8) + 1 == 1.
TEST_F(AggregationNodeTest, ReproducibleFoldsInChildOrderForEveryArrivalOrder) {
  install(tree_install(kPorts, 4));
  const std::vector<std::vector<float>> in{{1e8f, 1, 3}, {1, -1e8f, 1e8f}, {-1e8f, 1e8f, -1e8f}};
  std::vector<test::Bytes> bytes;
  for (const auto& v : in) bytes.push_back(test::to_bytes(v));
  const auto reference =
      from_bytes<float>(test::fold_in_rank_order(bytes, 3, Dtype::f32, ReduceOp::sum));
  const std::vector<std::size_t> reversed{2, 1, 0};
  ASSERT_NE(reference, from_bytes<float>(test::fold(bytes, reversed, 3, Dtype::f32, ReduceOp::sum)))
      << "the data must be order-sensitive for this test to mean anything";

  std::array<std::uint16_t, 3> order{0, 1, 2};
  std::uint32_t seq = 0;
  do {
    std::vector<Emit> last;
    for (std::uint16_t c : order)
      last = feed_child(contribution(c, seq, in[c], 4, wire::kFlagReproducible));
    ASSERT_EQ(last.size(), 3u);
    EXPECT_EQ(values_of(last[0].packet), reference)
        << "arrival " << order[0] << order[1] << order[2];
    EXPECT_TRUE(last[0].packet.header.has(wire::kFlagReproducible));
    ++seq;
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST_F(AggregationNodeTest, WithoutReproducibleFlagChildrenFoldInArrivalOrder) {
  install(tree_install(kPorts, 4));
  feed_child(contribution(2, 0, {-1e8f}));
  feed_child(contribution(0, 0, {1e8f}));
  auto r = feed_child(contribution(1, 0, {1}));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(values_of(r[0].packet), std::vector<float>{1});  // (-1e8 + 1e8) + 1
}

TEST_F(AggregationNodeTest, TimingOnlyPacketsFlowThroughAsNullPayloadResults) {
  install(tree_install({0, 1}, 4, kParentPort));
  const std::vector<float> sixteen(16, 0.0f);
  auto timing = [&](std::uint16_t child, std::uint32_t seq) {
    wire::Packet p = contribution(child, seq, sixteen);
    p.payload = nullptr;  // the header still says 16 floats
    return p;
  };
  feed(0, timing(0, 0));
  auto up = feed(1, timing(1, 0));
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].packet.payload, nullptr);
  EXPECT_EQ(up[0].packet.header.count, 16u);
  EXPECT_EQ(up[0].packet.payload_bytes(), 64u);

  wire::Packet result = result_from_parent(0, sixteen);
  result.payload = nullptr;
  auto down = feed(kParentPort, result);
  ASSERT_EQ(down.size(), 2u);
  EXPECT_EQ(down[0].packet.payload, nullptr);
  EXPECT_EQ(down[0].packet.header.count, 16u);

  // Data and timing-only contributions never mix in one chunk: the chunk fails
  // with an error to every child and to the parent.
  feed(0, timing(0, 8));
  EXPECT_EQ(feed(1, contribution(1, 8, sixteen)).size(), 3u);
  feed(0, contribution(0, 1, sixteen));
  EXPECT_EQ(feed(1, timing(1, 1)).size(), 3u);
  EXPECT_EQ(node_.counters().drop_mismatch, 2u);
}

}  // namespace
}  // namespace inca::engine
