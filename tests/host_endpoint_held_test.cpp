// The host endpoint's held range (InnetAllreduce::held_first/held_end): the
// chunks a rank holds none of go up header-only (wire::kFlagIdentity), an
// identity result writes zeros, and only ops whose identity is zero take a
// range narrower than the buffer. Its kept range (kept_first/kept_end): the
// chunks it keeps none of ask for header-only answers and write nothing.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "protocol/host_endpoint.hpp"
#include "test_support.hpp"

namespace inca::protocol {
namespace {

using test::from_bytes;

EndpointConfig config() {
  EndpointConfig c;
  c.rank = 0;
  c.address = 10;
  c.rank_address = {10, 11};
  c.job = 5;
  c.key_tag = 0x77;
  c.retransmit_timeout = 1000;
  return c;
}

// 10 u32 words in chunks of 4 (16 B slots): [0, 4), [4, 8), [8, 10).
struct HeldFixture : ::testing::Test {
  HostEndpoint ep{config()};
  std::vector<std::uint32_t> send{0, 0, 0, 0, 0, 7, 9, 0, 0, 0};
  std::vector<std::uint32_t> recv = std::vector<std::uint32_t>(10, 0xdeadbeef);
  Outbox out;

  InnetAllreduce spec() {
    InnetAllreduce s;
    s.tree = 4;
    s.window = 8;
    s.slot_payload_bytes = 16;
    s.send = send.data();
    s.recv = recv.data();
    s.count = send.size();
    s.dtype = Dtype::u32;
    s.op = ReduceOp::bor;
    s.held_first = 5;  // words 5 and 6: all in chunk 1
    s.held_end = 7;
    return s;
  }
  static wire::Packet result_for(const wire::Packet& c, std::vector<std::uint32_t> values) {
    wire::Packet r;
    r.header = c.header;
    r.header.type = wire::PacketType::result;
    r.header.child = 0;
    r.header.flags = static_cast<std::uint8_t>(c.header.flags & ~wire::kFlagIdentity);
    r.payload = test::payload_of(values);
    return r;
  }
};

TEST_F(HeldFixture, ChunksOutsideTheHeldRangeGoUpHeaderOnly) {
  auto id = ep.start_innet(spec(), 0, out);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  ASSERT_EQ(out.size(), 3u);
  for (std::size_t c : {0u, 2u}) {
    EXPECT_TRUE(out[c].header.has(wire::kFlagIdentity)) << c;
    EXPECT_EQ(out[c].payload, nullptr);
    EXPECT_EQ(out[c].header.count, c == 0 ? 4u : 2u) << "the chunk's length is still announced";
    EXPECT_EQ(out[c].wire_bytes(), wire::kFramingBytes + wire::kHeaderBytes);
  }
  EXPECT_FALSE(out[1].header.has(wire::kFlagIdentity));
  EXPECT_EQ(from_bytes<std::uint32_t>(out[1].payload_span()),
            (std::vector<std::uint32_t>{0, 7, 9, 0}));
  EXPECT_EQ(ep.counters().contributions_sent, 3u);
  EXPECT_EQ(ep.counters().identity_contributions_sent, 2u);

  // Chunk 0 comes back as identity (nobody held it): zeros, over what recv held.
  wire::Packet none = result_for(out[0], {});
  none.header.flags |= wire::kFlagIdentity;
  none.payload = nullptr;
  ep.on_packet(none, 0, out);
  ep.on_packet(result_for(out[1], {1, 7, 9, 2}), 0, out);
  ep.on_packet(result_for(out[2], {3, 4}), 0, out);
  ASSERT_TRUE(ep.done(*id));
  EXPECT_TRUE(ep.status(*id).ok());
  EXPECT_EQ(recv, (std::vector<std::uint32_t>{0, 0, 0, 0, 1, 7, 9, 2, 3, 4}));
  EXPECT_EQ(ep.counters().dropped, 0u);
}

TEST_F(HeldFixture, AnEmptyRangeHoldsNothingAndTheWholeRangeEverything) {
  InnetAllreduce s = spec();
  s.held_first = s.held_end = 0;
  ASSERT_TRUE(ep.start_innet(s, 0, out).ok());
  for (const wire::Packet& p : out) EXPECT_TRUE(p.header.has(wire::kFlagIdentity));
  HostEndpoint all(config());
  s = spec();
  s.tree = 5;
  s.held_first = 0;
  s.held_end = SIZE_MAX;
  Outbox sent;
  ASSERT_TRUE(all.start_innet(s, 0, sent).ok());
  for (const wire::Packet& p : sent) EXPECT_FALSE(p.header.has(wire::kFlagIdentity));
  EXPECT_EQ(all.counters().identity_contributions_sent, 0u);
}

// f32 sum: -0 + 0 is +0, so leaving -0 out is not exact; min's identity is
// not zero at all. Both refuse a narrower range before anything is sent.
TEST_F(HeldFixture, OnlyOpsWhoseIdentityIsZeroLeaveChunksOut) {
  for (auto [dtype, op] : {std::pair{Dtype::f32, ReduceOp::sum},
                           {Dtype::u32, ReduceOp::min},
                           {Dtype::u32, ReduceOp::lor}}) {
    InnetAllreduce s = spec();
    s.dtype = dtype;
    s.op = op;
    EXPECT_EQ(ep.start_innet(s, 0, out).status().code(), StatusCode::invalid_argument)
        << to_string(dtype) << " " << to_string(op);
  }
  EXPECT_TRUE(out.empty());
  for (auto [dtype, op] : {std::pair{Dtype::u32, ReduceOp::sum}, {Dtype::u32, ReduceOp::bxor}}) {
    HostEndpoint fresh(config());
    InnetAllreduce s = spec();
    s.dtype = dtype;
    s.op = op;
    EXPECT_TRUE(fresh.start_innet(s, 0, out).ok()) << to_string(dtype) << " " << to_string(op);
  }
}

// An identity result for an op whose identity is not zero cannot be written
// exactly: it is dropped, and the chunk waits for a real answer.
TEST_F(HeldFixture, AnIdentityResultForAnotherOpIsDropped) {
  InnetAllreduce s = spec();
  s.op = ReduceOp::max;
  s.held_first = 0;
  s.held_end = SIZE_MAX;
  auto id = ep.start_innet(s, 0, out);
  ASSERT_TRUE(id.ok());
  wire::Packet forged = result_for(out[0], {});
  forged.header.flags |= wire::kFlagIdentity;
  forged.payload = nullptr;
  ep.on_packet(forged, 0, out);
  EXPECT_EQ(ep.counters().dropped, 1u);
  EXPECT_EQ(ep.counters().results_received, 0u);
  EXPECT_EQ(recv[0], 0xdeadbeefu);
  EXPECT_FALSE(ep.done(*id));
}

TEST_F(HeldFixture, ChunksOutsideTheKeptRangeAskForTheHeaderAloneAndWriteNothing) {
  InnetAllreduce s = spec();
  s.held_first = 0;
  s.held_end = SIZE_MAX;
  s.kept_first = 4;  // chunk 1 only
  s.kept_end = 8;
  auto id = ep.start_innet(s, 0, out);
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(out.size(), 3u);
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_EQ(out[c].header.has(wire::kFlagHeaderOnly), c != 1) << c;
    EXPECT_NE(out[c].payload, nullptr) << "it still uploads its data";
  }
  // A bare answer for a chunk it keeps is not its answer: dropped.
  wire::Packet bare1 = result_for(out[1], {});
  bare1.header.flags |= wire::kFlagHeaderOnly;
  bare1.payload = nullptr;
  ep.on_packet(bare1, 0, out);
  EXPECT_EQ(ep.counters().dropped, 1u);
  for (std::size_t c : {0u, 2u}) {
    wire::Packet bare = result_for(out[c], {});
    bare.header.flags |= wire::kFlagHeaderOnly;
    bare.payload = nullptr;
    ep.on_packet(bare, 0, out);
  }
  EXPECT_FALSE(ep.done(*id));
  ep.on_packet(result_for(out[1], {5, 6, 7, 8}), 0, out);
  ASSERT_TRUE(ep.done(*id));
  EXPECT_TRUE(ep.status(*id).ok());
  const std::uint32_t x = 0xdeadbeef;
  EXPECT_EQ(recv, (std::vector<std::uint32_t>{x, x, x, x, 5, 6, 7, 8, x, x}));
}

}  // namespace
}  // namespace inca::protocol
