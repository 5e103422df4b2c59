// Refused chunks in a two-level tree wired by hand: a mismatch (dtype, op,
// count, flags or attempt tag) found at one leaf reaches every host through
// the root and the other leaf, retransmissions are answered with the error,
// a newer chunk reuses the failed slot normally, and forged or malformed
// error packets are dropped. Every packet lands in one counter bucket.
#include <gtest/gtest.h>

#include <map>

#include "engine/aggregation_node.hpp"
#include "test_support.hpp"
#include "wire/error_payload.hpp"
#include "wire/header.hpp"

namespace inca::engine {
namespace {

using test::contribution;
using test::tree_install;

constexpr std::uint16_t kUp = 9;  // each leaf's parent port
constexpr std::uint16_t kWindow = 4;

// Two leaves of two hosts under a root; emits are delivered until quiet.
struct TwoLevelTree {
  AggregationNode leaf[2] = {AggregationNode({16, 64, "leaf0"}),
                             AggregationNode({16, 64, "leaf1"})};
  AggregationNode root;
  std::map<std::pair<int, int>, std::vector<wire::Packet>> to_host;  // (leaf, port) -> packets

  explicit TwoLevelTree(SwitchCaps root_caps = {}) : root({16, 64, "root", root_caps}) {
    for (int l = 0; l < 2; ++l) {
      wire::TreeInstall t = tree_install({0, 1}, kWindow, kUp);
      t.index_at_parent = static_cast<std::uint16_t>(l);
      EXPECT_TRUE(leaf[l].install(t).ok());
    }
    EXPECT_TRUE(root.install(tree_install({0, 1}, kWindow)).ok());
  }
  void from_host(int l, std::uint16_t port, const wire::Packet& p) {
    std::vector<Emit> out;
    leaf[l].on_packet(port, p, out);
    route_from_leaf(l, out);
  }
  void route_from_leaf(int l, std::vector<Emit>& out) {
    for (Emit& e : out) {
      if (e.port != kUp) {
        to_host[{l, e.port}].push_back(e.packet);
        continue;
      }
      std::vector<Emit> up;
      root.on_packet(static_cast<std::uint16_t>(l), e.packet, up);
      for (Emit& d : up) {
        std::vector<Emit> down;
        leaf[d.port].on_packet(kUp, d.packet, down);
        route_from_leaf(d.port, down);
      }
    }
  }
  std::size_t errors_at(int l, int port) {
    std::size_t n = 0;
    for (const wire::Packet& p : to_host[{l, port}]) n += p.header.type == wire::PacketType::error;
    return n;
  }
  void expect_every_packet_classified() {
    for (const AggregationNode* n : {&leaf[0], &leaf[1], &root})
      EXPECT_EQ(n->counters().packets_in, classified_packets(n->counters()));
  }
};

wire::Packet chunk(std::uint16_t child, std::uint32_t seq, std::vector<float> v,
                   std::uint8_t attempt = 0) {
  wire::Packet p = contribution(child, seq, v, kWindow);
  p.header.attempt_tag = static_cast<std::uint8_t>(attempt);
  return p;
}

TEST(EngineErrors, AMismatchAtOneLeafReachesEveryHostThroughTheRoot) {
  TwoLevelTree t;
  t.from_host(0, 0, chunk(0, 0, {1, 2}));
  t.from_host(0, 1, chunk(1, 0, {1, 2}));  // leaf0's partial is up
  t.from_host(1, 0, chunk(0, 0, {1, 2}));
  wire::Packet other_op = chunk(1, 0, {1, 2});
  other_op.header.op = ReduceOp::max;
  t.from_host(1, 1, other_op);
  for (int l = 0; l < 2; ++l)
    for (int port = 0; port < 2; ++port) EXPECT_EQ(t.errors_at(l, port), 1u) << l << "/" << port;
  const wire::Packet& e = t.to_host[{0, 0}].back();
  EXPECT_EQ(e.header.sequence, static_cast<std::uint32_t>(StatusCode::mismatch));
  auto payload = wire::parse_error_payload(e.payload_span());
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(payload->chunk_sequence, 0u);
  EXPECT_NE(payload->message.find("switch leaf1"), std::string::npos) << payload->message;
  EXPECT_NE(payload->message.find("f32 max"), std::string::npos) << payload->message;
  EXPECT_EQ(t.root.counters().results, 0u);

  // A host that lost its error retransmits and is answered with it.
  t.from_host(0, 1, chunk(1, 0, {1, 2}));
  EXPECT_EQ(t.errors_at(0, 1), 2u);
  t.expect_every_packet_classified();
}

TEST(EngineErrors, AnErrorAheadOfTheChunkMakesTheOtherLeafRefuseItWhenItComes) {
  TwoLevelTree t;
  // leaf1 finds the mismatch before leaf0 saw anything of chunk 1.
  t.from_host(1, 0, chunk(0, 1, {5}));
  t.from_host(1, 1, chunk(1, 1, {5, 6}));
  EXPECT_EQ(t.errors_at(0, 0), 1u);
  // leaf0's hosts then contribute: refused with the same error, never aggregated.
  t.from_host(0, 0, chunk(0, 1, {5}));
  EXPECT_EQ(t.errors_at(0, 0), 2u);
  EXPECT_EQ(t.leaf[0].counters().contributions, 0u);
  EXPECT_EQ(t.leaf[0].counters().refused, 1u);
  t.expect_every_packet_classified();
}

TEST(EngineErrors, ContributionsOfDifferentAttemptsNeverMix) {
  TwoLevelTree t;
  t.from_host(0, 0, chunk(0, 2, {1}, /*attempt=*/7));
  t.from_host(0, 1, chunk(1, 2, {100}, /*attempt=*/8));
  EXPECT_EQ(t.leaf[0].counters().drop_mismatch, 1u);
  EXPECT_EQ(t.errors_at(0, 0), 1u);
  auto payload = wire::parse_error_payload(t.to_host[{0, 0}].back().payload_span());
  ASSERT_TRUE(payload.has_value());
  EXPECT_NE(payload->message.find("attempt tag 8"), std::string::npos) << payload->message;
}

// Bit 2 of the flags once exempted a packet from the attempt check (a
// "quantized" flag that no sender set); it now marks an identity chunk. No
// flag turns the check off: two contributions that both carry bit 2, or a
// reserved bit, but different attempts still never mix; and on the wire a
// reserved bit does not even decode.
TEST(EngineErrors, NoFlagExemptsAContributionFromTheAttemptCheck) {
  for (const std::uint8_t flag : {std::uint8_t{wire::kFlagIdentity}, std::uint8_t{0x10}}) {
    SCOPED_TRACE(static_cast<int>(flag));
    TwoLevelTree t;
    wire::Packet first = chunk(0, 2, {1}, /*attempt=*/7);
    wire::Packet second = chunk(1, 2, {100}, /*attempt=*/8);
    first.header.flags |= flag;
    second.header.flags |= flag;
    t.from_host(0, 0, first);
    t.from_host(0, 1, second);
    EXPECT_EQ(t.leaf[0].counters().drop_mismatch, 1u);
    EXPECT_EQ(t.leaf[0].counters().contributions, 1u);
    EXPECT_EQ(t.errors_at(0, 0), 1u);
    EXPECT_EQ(t.errors_at(0, 1), 1u);
    EXPECT_EQ(t.root.counters().contributions, 0u);
    t.expect_every_packet_classified();
  }
  wire::Packet reserved = chunk(1, 2, {100}, 8);
  reserved.header.flags |= 0x10;
  std::vector<std::byte> bytes(wire::kHeaderBytes + reserved.payload_bytes());
  ASSERT_EQ(wire::encode(reserved.header, reserved.payload_span(), bytes), bytes.size());
  wire::Header decoded;
  std::span<const std::byte> payload;
  EXPECT_EQ(wire::decode(bytes, decoded, payload), wire::DecodeError::bad_flags);
}

TEST(EngineErrors, AFailedSlotIsReusedByTheNextChunkInIt) {
  TwoLevelTree t;
  t.from_host(0, 0, chunk(0, 0, {1}));
  t.from_host(0, 1, chunk(1, 0, {1, 1}));  // fails chunk 0 (slot 0, set 0)
  // Chunk 8 uses slot 0, set 0 again (8 / 4 is even): exact as usual.
  for (int l = 0; l < 2; ++l)
    for (std::uint16_t c = 0; c < 2; ++c)
      t.from_host(l, c, chunk(c, 8, {static_cast<float>(1 + c + 2 * l)}));
  for (int l = 0; l < 2; ++l)
    for (int port = 0; port < 2; ++port) {
      const wire::Packet& r = t.to_host[{l, port}].back();
      ASSERT_EQ(r.header.type, wire::PacketType::result);
      EXPECT_EQ(test::values_of(r), std::vector<float>{10});
    }
  t.expect_every_packet_classified();
}

// The leaves aggregate f32 max but the root does not: the root refuses each
// leaf's partial, and each leaf passes the not_supported error to its hosts,
// so every host fails fast with the root's message instead of timing out.
TEST(EngineErrors, APartialOutsideTheRootsCapsFailsEveryHostWithNotSupported) {
  TwoLevelTree t(SwitchCaps{}.without(ReduceOp::max));
  for (int l = 0; l < 2; ++l)
    for (std::uint16_t c = 0; c < 2; ++c) {
      wire::Packet p = chunk(c, 0, {1, 2});
      p.header.op = ReduceOp::max;
      t.from_host(l, c, p);
    }
  for (int l = 0; l < 2; ++l)
    for (int port = 0; port < 2; ++port) {
      ASSERT_EQ((t.to_host[{l, port}].size()), 1u) << l << port;
      const wire::Packet& e = t.to_host[{l, port}][0];
      EXPECT_EQ(e.header.type, wire::PacketType::error);
      EXPECT_EQ(e.header.sequence, static_cast<std::uint32_t>(StatusCode::not_supported));
      auto error = wire::parse_error_payload(e.payload_span());
      ASSERT_TRUE(error);
      EXPECT_NE(error->message.find("switch root: tree"), std::string::npos) << error->message;
    }
  EXPECT_EQ(t.root.counters().refused_caps, 2u);
  EXPECT_EQ(t.root.counters().results, 0u);
  for (int l = 0; l < 2; ++l) {
    EXPECT_EQ(t.leaf[l].counters().refused_caps, 0u);
    EXPECT_EQ(t.leaf[l].counters().errors_in, 1u);
  }
  t.expect_every_packet_classified();
}

TEST(EngineErrors, ForgedAndMalformedErrorPacketsAreDropped) {
  AggregationNode node({16, 64, "sw"});
  ASSERT_TRUE(node.install(tree_install({3, 4}, kWindow, kUp)).ok());
  wire::Packet e = chunk(0, 0, {1});
  e.header.type = wire::PacketType::error;
  e.header.dtype = Dtype::u8;
  e.payload = wire::make_error_payload(0, "forged");
  e.header.count = static_cast<std::uint32_t>(e.payload->size());
  std::vector<Emit> out;
  node.on_packet(4, e, out);  // child 0 claimed from child 1's port
  EXPECT_EQ(node.counters().drop_bad_child, 1u);
  wire::Packet short_payload = e;
  short_payload.payload = wire::make_payload(std::vector<std::byte>(2));
  short_payload.header.count = 2;
  node.on_packet(3, short_payload, out);
  EXPECT_EQ(node.counters().drop_malformed, 1u);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(node.counters().packets_in, classified_packets(node.counters()));
}

// The engine fuzzer's find: a result from the parent whose count disagreed
// with the chunk was passed down under the chunk's header, so children got a
// result claiming 2 elements with none in it.
TEST(EngineErrors, AResultThatIsNotTheAnswerToThePartialIsDropped) {
  AggregationNode node({16, 64, "sw"});
  ASSERT_TRUE(node.install(tree_install({3, 4}, kWindow, kUp)).ok());
  std::vector<Emit> out;
  node.on_packet(3, chunk(0, 0, {1, 2}), out);
  node.on_packet(4, chunk(1, 0, {10, 20}), out);
  ASSERT_EQ(out.size(), 1u);  // the partial, up
  EXPECT_EQ(out[0].port, kUp);
  out.clear();

  std::vector<wire::Packet> wrong(4, test::result_from_parent(0, {11, 22}, kWindow));
  wrong[0] = test::result_from_parent(0, {}, kWindow);  // count 0, no elements
  wrong[1].header.op = ReduceOp::max;
  wrong[2].header.attempt_tag = 1;
  wrong[3].payload = nullptr;  // payload-free answer to a chunk with data
  for (const wire::Packet& r : wrong) node.on_packet(kUp, r, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(node.counters().drop_mismatch, wrong.size());
  EXPECT_EQ(node.counters().results_in, 0u);

  node.on_packet(kUp, test::result_from_parent(0, {11, 22}, kWindow), out);
  ASSERT_EQ(out.size(), 2u);
  for (const Emit& e : out) {
    EXPECT_EQ(e.packet.header.count, 2u);
    EXPECT_EQ(test::values_of(e.packet), (std::vector<float>{11, 22}));
  }
  EXPECT_EQ(node.counters().results_in, 1u);
  EXPECT_EQ(node.counters().packets_in, classified_packets(node.counters()));
}

}  // namespace
}  // namespace inca::engine
