// The sans-I/O host endpoint driven directly: the packets an in-network
// all-reduce emits (slots, shadow sets, counts, flags), results as ACKs that
// clock the window, retransmission with backoff and its final timeout, and
// point-to-point fragmentation, matching and every receive error.
#include "protocol/host_endpoint.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "test_support.hpp"

namespace inca::protocol {
namespace {

using test::from_bytes;
using test::payload_of;

constexpr std::uint32_t kJob = 5;
constexpr std::uint32_t kKey = 0x77;
constexpr Time kRto = 1000;

EndpointConfig config(std::uint32_t rank = 0) {
  EndpointConfig c;
  c.rank = rank;
  c.address = 10 + rank;
  c.rank_address = {10, 11, 12};
  c.job = kJob;
  c.key_tag = kKey;
  c.p2p_payload_bytes = 100;
  c.retransmit_timeout = kRto;
  c.max_retransmits = 3;
  return c;
}

// 10 floats in chunks of 4 (16 B slots): chunks of 4, 4 and 2.
struct InnetFixture : ::testing::Test {
  HostEndpoint ep{config()};
  std::vector<float> send = std::vector<float>(10);
  std::vector<float> recv = std::vector<float>(10, -1.0f);
  Outbox out;

  InnetFixture() { std::iota(send.begin(), send.end(), 1.0f); }

  InnetAllreduce spec(std::uint32_t window = 2) {
    InnetAllreduce s;
    s.tree = 4;
    s.child_index = 2;
    s.window = window;
    s.slot_payload_bytes = 16;
    s.send = send.data();
    s.recv = recv.data();
    s.count = send.size();
    return s;
  }
  OpId start(std::uint32_t window = 2, Time now = 0) {
    auto id = ep.start_innet(spec(window), now, out);
    EXPECT_TRUE(id.ok()) << id.status().to_string();
    return id.ok() ? *id : 0;
  }
  // The switch's answer to `contribution`: the same chunk, `values` as data.
  static wire::Packet result_for(const wire::Packet& contribution, std::vector<float> values) {
    wire::Packet r;
    r.header = contribution.header;
    r.header.type = wire::PacketType::result;
    r.header.child = 0;
    r.payload = payload_of(values);
    return r;
  }
  // Answers with 3x the contribution, as if three ranks had sent the same.
  void answer(const wire::Packet& contribution, Time now = 0) {
    std::vector<float> v = from_bytes<float>(contribution.payload_span());
    for (float& x : v) x *= 3;
    ep.on_packet(result_for(contribution, v), now, out);
  }
  Outbox take() { return std::exchange(out, {}); }
};

using HostEndpointInnet = InnetFixture;

TEST_F(HostEndpointInnet, StartEmitsOneWindowOfContributions) {
  start(2);
  Outbox sent = take();
  ASSERT_EQ(sent.size(), 2u);
  for (std::uint32_t c = 0; c < 2; ++c) {
    const wire::Header& h = sent[c].header;
    EXPECT_EQ(h.type, wire::PacketType::contribution);
    EXPECT_EQ(h.sequence, c);
    EXPECT_EQ(h.slot, c);
    EXPECT_FALSE(h.shadow);
    EXPECT_EQ(h.child, 2u);
    EXPECT_EQ(h.tree, 4u);
    EXPECT_EQ(h.job, kJob);
    EXPECT_EQ(h.key_tag, kKey);
    EXPECT_EQ(h.count, 4u);
    EXPECT_EQ(h.flags, 0u);
    EXPECT_EQ(sent[c].src, 10u);
    EXPECT_EQ(from_bytes<float>(sent[c].payload_span()),
              std::vector<float>(send.begin() + 4 * c, send.begin() + 4 * c + 4));
  }
  EXPECT_EQ(ep.counters().contributions_sent, 2u);
  EXPECT_EQ(ep.counters().window_full_waits, 1u);
}

TEST_F(HostEndpointInnet, WindowLargerThanTheMessageSendsEveryChunkAndFlagsTheLast) {
  start(8);
  Outbox sent = take();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].header.count, 2u);
  EXPECT_EQ(sent[2].header.flags, wire::kFlagLast);
  EXPECT_EQ(sent[2].header.slot, 2u);
  EXPECT_EQ(sent[2].payload_bytes(), 8u);
  EXPECT_EQ(ep.counters().window_full_waits, 0u);
}

TEST_F(HostEndpointInnet, EachResultFreesItsSlotForTheChunkOneWindowAhead) {
  const OpId id = start(2);
  Outbox first = take();
  answer(first[1]);  // out of order; chunk 1 + window is past the end
  EXPECT_TRUE(take().empty());
  answer(first[0]);
  Outbox next = take();
  ASSERT_EQ(next.size(), 1u);
  const wire::Header& h = next[0].header;
  EXPECT_EQ(h.sequence, 2u);
  EXPECT_EQ(h.slot, 0u);   // 2 % 2: the slot chunk 0 just freed
  EXPECT_TRUE(h.shadow);   // (2 / 2) % 2: the other set of that slot
  EXPECT_EQ(h.count, 2u);  // the partial last chunk
  EXPECT_EQ(h.flags, wire::kFlagLast);
  EXPECT_FALSE(ep.done(id));

  answer(next[0]);
  EXPECT_TRUE(take().empty());
  ASSERT_TRUE(ep.done(id));
  EXPECT_TRUE(ep.status(id).ok());
  std::vector<float> want(send);
  for (float& x : want) x *= 3;
  EXPECT_EQ(recv, want);
  EXPECT_EQ(ep.counters().results_received, 3u);
}

TEST_F(HostEndpointInnet, SequencesContinueAcrossOperationsOnTheSameTree) {
  const OpId a = start(2);
  Outbox sent = take();
  while (!sent.empty()) {
    Outbox more;
    for (const wire::Packet& p : sent) {
      answer(p);
      for (wire::Packet& q : take()) more.push_back(std::move(q));
    }
    sent = std::move(more);
  }
  ASSERT_TRUE(ep.done(a));
  ep.release(a);

  start(2);
  Outbox second = take();
  ASSERT_EQ(second.size(), 2u);
  // The first operation used seqs 0..2, so chunk 0 is seq 3: slot 1, set 1.
  EXPECT_EQ(second[0].header.sequence, 3u);
  EXPECT_EQ(second[0].header.slot, 1u);
  EXPECT_TRUE(second[0].header.shadow);
  EXPECT_EQ(second[1].header.sequence, 4u);
  EXPECT_EQ(second[1].header.slot, 0u);
  EXPECT_FALSE(second[1].header.shadow);
}

TEST_F(HostEndpointInnet, DuplicateAndForeignResultsAreCountedAndIgnored) {
  const OpId id = start(8);
  Outbox sent = take();
  answer(sent[0]);
  ep.on_packet(result_for(sent[0], {7, 7, 7, 7}), 0, out);  // a repeat
  EXPECT_EQ(ep.counters().duplicate_results, 1u);
  wire::Packet short_result = result_for(sent[1], {1, 2});  // wrong count
  ep.on_packet(short_result, 0, out);
  EXPECT_EQ(ep.counters().dropped, 1u);
  wire::Packet other_job = result_for(sent[1], {1, 2, 3, 4});
  other_job.header.job = kJob + 1;
  ep.on_packet(other_job, 0, out);
  EXPECT_EQ(ep.counters().dropped, 2u);
  answer(sent[1]);
  answer(sent[2]);
  ASSERT_TRUE(ep.done(id));
  EXPECT_EQ(recv[0], 3.0f);  // the repeat did not overwrite
  answer(sent[2]);           // late repeat after completion
  EXPECT_EQ(ep.counters().duplicate_results, 2u);
  EXPECT_TRUE(take().empty());
}

TEST_F(HostEndpointInnet, RetransmitsWithDoublingBackoffThenTimesOut) {
  const OpId id = start(8, /*now=*/100);
  Outbox first = take();
  ASSERT_EQ(first.size(), 3u);
  answer(first[1], 100);
  EXPECT_EQ(ep.next_deadline(), 100 + kRto);
  ep.on_timer(100 + kRto - 1, out);
  EXPECT_TRUE(take().empty());

  // Expiry k resends the unanswered chunks and waits 2^k timeouts.
  Time at = 100 + kRto;
  for (int k = 1; k <= 3; ++k) {
    ep.on_timer(at, out);
    Outbox again = take();
    ASSERT_EQ(again.size(), 2u) << "expiry " << k;
    EXPECT_EQ(again[0].header.sequence, 0u);
    EXPECT_EQ(again[1].header.sequence, 2u);
    EXPECT_EQ(again[0].payload_span().size(), first[0].payload_span().size());
    EXPECT_EQ(ep.counters().retransmissions, 2u * k);
    EXPECT_FALSE(ep.done(id));
    at += kRto << k;
    EXPECT_EQ(ep.next_deadline(), at);
  }
  ep.on_timer(at, out);
  EXPECT_TRUE(take().empty());
  ASSERT_TRUE(ep.done(id));
  EXPECT_EQ(ep.status(id).code(), StatusCode::timeout);
  EXPECT_NE(ep.status(id).message().find("3 retransmissions"), std::string::npos)
      << ep.status(id).message();
  EXPECT_EQ(ep.next_deadline(), kNever);
  ep.release(id);
  EXPECT_TRUE(ep.start_innet(spec(), at, out).ok()) << "the tree is free again";
}

TEST_F(HostEndpointInnet, ResultStopsThatChunksTimer) {
  start(8);
  Outbox first = take();
  for (const wire::Packet& p : first) answer(p, 10);
  EXPECT_EQ(ep.next_deadline(), kNever);
  ep.on_timer(100 * kRto, out);
  EXPECT_TRUE(take().empty());
  EXPECT_EQ(ep.counters().retransmissions, 0u);
}

// An endpoint with adaptive timeouts that has measured 18 round trips of 10
// ps (6 operations of 3 chunks, window 1): its timeout is 3 x 10 ps.
struct AdaptiveFixture : InnetFixture {
  static EndpointConfig adaptive_config() {
    EndpointConfig c = config();
    c.adaptive_timeout = true;
    c.min_retransmit_timeout = 1;
    c.retransmit_timeout = 1000 * kRto;
    return c;
  }
  HostEndpoint adaptive{adaptive_config()};
  Time now = 0;

  void answer_at(const wire::Packet& sent, Time at) {
    adaptive.on_packet(result_for(sent, from_bytes<float>(sent.payload_span())), at, out);
  }
  // Answers the one packet sent since the last call, at `at`.
  wire::Packet answer_next(Time at) {
    Outbox sent = take();
    EXPECT_EQ(sent.size(), 1u);
    if (sent.empty()) return {};
    answer_at(sent[0], at);
    return sent[0];
  }
  void SetUp() override {
    for (int op = 0; op < 6; ++op) {
      auto id = adaptive.start_innet(spec(1), now, out);
      ASSERT_TRUE(id.ok());
      for (int chunk = 0; chunk < 3; ++chunk) answer_next(now += 10);
      ASSERT_TRUE(adaptive.done(*id));
      adaptive.release(*id);
    }
  }
};

using HostEndpointAdaptive = AdaptiveFixture;

// A result that comes sooner after a resend than the minimum round trip
// answers the original, which was late, not lost: the timeout of what is sent
// next doubles (protocol/rto_estimator.hpp). A result a round trip after the
// resend, or a duplicate result, changes nothing.
TEST_F(HostEndpointAdaptive, ResultTooSoonAfterAResendDoublesTheTimeout) {
  auto id = adaptive.start_innet(spec(1), now, out);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(adaptive.next_deadline(), now + 30) << "3 x the minimum round trip";
  ASSERT_EQ(take().size(), 1u);
  // Chunk 0 times out and is resent; its answer comes a round trip later:
  // the resend may have been needed.
  adaptive.on_timer(now += 30, out);
  const wire::Packet first = answer_next(now += 10);
  answer_at(first, now);
  EXPECT_EQ(adaptive.counters().duplicate_results, 1u);
  EXPECT_EQ(adaptive.next_deadline(), now + 30) << "no back-off";
  // Chunk 1 times out too, and its answer comes 4 ps after the resend: it
  // answers the original.
  ASSERT_EQ(take().size(), 1u) << "chunk 1, sent when chunk 0 was answered";
  adaptive.on_timer(now += 30, out);
  answer_next(now += 4);
  EXPECT_EQ(adaptive.next_deadline(), now + 60) << "the chunk sent after it waits twice as long";
  EXPECT_EQ(adaptive.counters().retransmissions, 2u);
}

// The Eifel response: once an answer shows that a resend was needless, the
// chunks still timed against the old timeout get the doubled one instead of
// expiring before their answers too (a window queued behind another job's
// traffic would otherwise be resent whole).
TEST_F(HostEndpointAdaptive, NeedlessResendExtendsTheOutstandingChunksTimers) {
  const Time t0 = now;
  auto id = adaptive.start_innet(spec(2), t0, out);
  ASSERT_TRUE(id.ok());
  Outbox window = take();
  ASSERT_EQ(window.size(), 2u);
  answer_at(window[0], t0 + 10);  // chunk 2 goes out at t0 + 10, due at t0 + 40
  ASSERT_EQ(take().size(), 1u);
  adaptive.on_timer(t0 + 30, out);  // chunk 1 expires and is resent
  ASSERT_EQ(take().size(), 1u);
  EXPECT_EQ(adaptive.next_deadline(), t0 + 40);
  answer_at(window[1], t0 + 34);  // 4 ps after the resend: needless
  EXPECT_EQ(adaptive.next_deadline(), t0 + 10 + 60) << "chunk 2 timed with the doubled timeout";
  adaptive.on_timer(t0 + 40, out);
  EXPECT_TRUE(take().empty()) << "chunk 2 is not resent at its old deadline";
  EXPECT_EQ(adaptive.counters().retransmissions, 1u);
}

// Segment mode (docs/model.md): a chunk of K packets is answered when the
// head of its result arrives, while the NIC may still be sending its tail. A
// segment's timer allows for what its first packet waits on the NIC (the
// previous segment's tail), not for the whole segment, so its round-trip
// samples measure the network as packet mode's do. An operation's last result
// is handed over at its tail: the last segment allows for all of itself.
TEST_F(HostEndpointInnet, SegmentTimersAllowForTheHeadsWaitOnTheNic) {
  EndpointConfig c = config();
  c.segment_packets = 4;
  c.timing_only = true;
  c.nic_gbps = 8;  // 1 ns per byte
  HostEndpoint seg(c);
  InnetAllreduce s = spec(4);  // 16 B slots, window 4: one segment of 4 packets in flight
  s.count = 256;               // 16 segments (the fewest an operation is cut into)
  const Time packet = drain_time(wire::kFramingBytes + wire::kHeaderBytes + 16, c.nic_gbps);
  auto id = seg.start_innet(s, 0, out);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  Outbox first = take();
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].packets, 4);
  EXPECT_EQ(seg.next_deadline(), packet + kRto) << "its first packet leaves at once";
  // Answered while its tail is still leaving (until 4 packets' time): the
  // next segment's head waits for it.
  const Time answered = 2 * packet;
  seg.on_packet(result_for(first[0], {}), answered, out);
  Outbox second = take();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(seg.next_deadline(), answered + (4 * packet - answered) + packet + kRto)
      << "behind the first segment's tail";
  // The others answered once the NIC is idle; the last waits for all of
  // itself, since the operation's last result comes at its tail.
  Time now = answered;
  Outbox next = std::move(second);
  for (int i = 2; i < 16; ++i) {
    now += 100 * packet;
    seg.on_packet(result_for(next.at(0), {}), now, out);
    next = take();
    ASSERT_EQ(next.size(), 1u) << i;
  }
  EXPECT_EQ(seg.next_deadline(), now + packet + 3 * packet + kRto) << "all of itself (the last)";
  seg.on_packet(result_for(next.at(0), {}), now + 100 * packet, out);
  EXPECT_TRUE(seg.done(*id));
  EXPECT_EQ(seg.counters().retransmissions, 0u);
}

TEST_F(HostEndpointInnet, TimingOnlyMovesSizesWithoutData) {
  EndpointConfig c = config();
  c.timing_only = true;
  HostEndpoint timing(c);
  InnetAllreduce s = spec(8);
  s.send = nullptr;
  s.recv = nullptr;
  auto id = timing.start_innet(s, 0, out);
  ASSERT_TRUE(id.ok());
  Outbox sent = take();
  ASSERT_EQ(sent.size(), 3u);
  for (wire::Packet& p : sent) {
    EXPECT_EQ(p.payload, nullptr);
    wire::Packet r = result_for(p, {});
    r.payload = nullptr;
    timing.on_packet(r, 0, out);
  }
  EXPECT_TRUE(timing.done(*id));
  EXPECT_TRUE(timing.status(*id).ok());
  EXPECT_EQ(sent[0].wire_bytes(), wire::kFramingBytes + wire::kHeaderBytes + 16);
}

TEST_F(HostEndpointInnet, RejectsInvalidOperations) {
  InnetAllreduce s = spec();
  s.window = 0;
  EXPECT_EQ(ep.start_innet(s, 0, out).status().code(), StatusCode::invalid_argument);
  s = spec();
  s.dtype = Dtype::f64;
  s.slot_payload_bytes = 4;
  EXPECT_EQ(ep.start_innet(s, 0, out).status().code(), StatusCode::invalid_argument);
  s = spec();
  s.op = ReduceOp::band;
  EXPECT_EQ(ep.start_innet(s, 0, out).status().code(), StatusCode::not_supported);
  s = spec();
  s.send = nullptr;
  EXPECT_EQ(ep.start_innet(s, 0, out).status().code(), StatusCode::invalid_argument);
  s = spec();
  s.recv = nullptr;
  EXPECT_EQ(ep.start_innet(s, 0, out).status().code(), StatusCode::invalid_argument);
  EXPECT_TRUE(out.empty());

  start();
  EXPECT_EQ(ep.start_innet(spec(), 0, out).status().code(), StatusCode::invalid_argument)
      << "one operation per tree at a time";
  s = spec();
  s.tree = 5;
  s.count = 0;
  auto empty = ep.start_innet(s, 0, out);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(ep.done(*empty));
}

TEST_F(HostEndpointInnet, AbortAllFailsPendingOperations) {
  const OpId id = start();
  auto r = ep.post_recv(1, 0, recv.data(), 4);
  ASSERT_TRUE(r.ok());
  ep.abort_all(make_error(StatusCode::timeout, "fabric stalled"));
  EXPECT_EQ(ep.status(id).code(), StatusCode::timeout);
  EXPECT_EQ(ep.status(*r).code(), StatusCode::timeout);
  EXPECT_EQ(ep.next_deadline(), kNever);
}

// ---------------------------------------------------------------- p2p ----

struct HostEndpointP2p : ::testing::Test {
  HostEndpoint a{config(0)};
  HostEndpoint b{config(1)};
  Outbox out;

  static std::vector<std::byte> bytes(std::size_t n, int seed = 1) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 7 + seed) & 0xff);
    return v;
  }
  // Rank 0 sends `data` to rank 1; returns the fragments it put on the wire.
  Outbox send(const std::vector<std::byte>& data, std::uint16_t tag = 3) {
    auto id = a.post_send(1, tag, data.data(), data.size(), out);
    EXPECT_TRUE(id.ok());
    EXPECT_TRUE(a.done(*id));  // eager: complete once handed to the fabric
    return std::exchange(out, {});
  }
  void deliver(const wire::Packet& p) {
    b.on_packet(p, 0, out);
    EXPECT_TRUE(out.empty());
  }
  OpId post_recv(std::vector<std::byte>& into, std::uint16_t tag = 3) {
    auto id = b.post_recv(0, tag, into.data(), into.size());
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : 0;
  }
};

TEST_F(HostEndpointP2p, MessagesAreCutIntoPayloadSizedFragments) {
  const auto data = bytes(250);
  Outbox frags = send(data, 9);
  ASSERT_EQ(frags.size(), 3u);
  const std::uint32_t sizes[] = {100, 100, 50};
  for (std::uint32_t i = 0; i < 3; ++i) {
    const wire::Header& h = frags[i].header;
    EXPECT_EQ(h.type, wire::PacketType::p2p);
    EXPECT_EQ(h.sequence, 100 * i);  // byte offset
    EXPECT_EQ(h.count, sizes[i]);
    EXPECT_EQ(h.tree, 9u);   // the tag
    EXPECT_EQ(h.child, 0u);  // the source rank
    EXPECT_EQ(h.slot, 0u);   // first message on this (peer, tag)
    EXPECT_EQ(h.flags, i == 2 ? wire::kFlagLast : 0);
    EXPECT_EQ(frags[i].src, 10u);
    EXPECT_EQ(frags[i].dst, 11u);
  }
  EXPECT_EQ(a.counters().p2p_fragments_sent, 3u);
  Outbox second = send(bytes(200), 9);
  ASSERT_EQ(second.size(), 2u);  // an exact multiple: no empty tail fragment
  EXPECT_EQ(second[1].header.flags, wire::kFlagLast);
  EXPECT_EQ(second[0].header.slot, 1u);
}

TEST_F(HostEndpointP2p, OutOfOrderFragmentsAssembleExactly) {
  const auto data = bytes(250);
  Outbox frags = send(data);
  std::vector<std::byte> into(250);
  const OpId id = post_recv(into);
  deliver(frags[2]);
  deliver(frags[0]);
  EXPECT_FALSE(b.done(id));
  deliver(frags[1]);
  ASSERT_TRUE(b.done(id));
  EXPECT_TRUE(b.status(id).ok());
  EXPECT_EQ(into, data);
  EXPECT_EQ(b.counters().unexpected_fragments, 0u);
}

TEST_F(HostEndpointP2p, UnexpectedMessagesWaitForTheirReceive) {
  const auto data = bytes(250, 4);
  Outbox frags = send(data);
  deliver(frags[1]);
  deliver(frags[0]);
  EXPECT_EQ(b.counters().unexpected_fragments, 2u);
  std::vector<std::byte> into(250);
  const OpId id = post_recv(into);
  EXPECT_FALSE(b.done(id));
  deliver(frags[2]);  // the rest arrives after the receive is posted
  ASSERT_TRUE(b.done(id));
  EXPECT_TRUE(b.status(id).ok());
  EXPECT_EQ(into, data);
}

TEST_F(HostEndpointP2p, WholeUnexpectedMessageCompletesThePostedReceiveAtOnce) {
  const auto data = bytes(30);
  for (const wire::Packet& p : send(data)) deliver(p);
  std::vector<std::byte> into(30);
  const OpId id = post_recv(into);
  ASSERT_TRUE(b.done(id));
  EXPECT_EQ(into, data);
}

TEST_F(HostEndpointP2p, MessagesMatchByTagAndThenInOrder) {
  const auto first = bytes(20, 1), second = bytes(20, 2), tagged = bytes(20, 3);
  Outbox f1 = send(first, 1), f2 = send(second, 1), f3 = send(tagged, 2);
  std::vector<std::byte> r3(20), r1(20), r2(20);
  const OpId id3 = post_recv(r3, 2);
  const OpId id1 = post_recv(r1, 1);
  const OpId id2 = post_recv(r2, 1);
  for (const Outbox* f : {&f2, &f3, &f1}) deliver((*f)[0]);
  EXPECT_TRUE(b.done(id1) && b.done(id2) && b.done(id3));
  EXPECT_EQ(r1, first);
  EXPECT_EQ(r2, second);
  EXPECT_EQ(r3, tagged);
}

TEST_F(HostEndpointP2p, MessageLargerThanTheBufferIsAMismatch) {
  Outbox frags = send(bytes(250));
  std::vector<std::byte> into(150);
  const OpId id = post_recv(into);
  deliver(frags[0]);
  EXPECT_FALSE(b.done(id));
  deliver(frags[1]);  // ends at 200 > 150
  ASSERT_TRUE(b.done(id));
  EXPECT_EQ(b.status(id).code(), StatusCode::mismatch);
  EXPECT_NE(b.status(id).message().find("150"), std::string::npos) << b.status(id).message();
}

TEST_F(HostEndpointP2p, MessageSmallerThanTheBufferIsAMismatch) {
  Outbox frags = send(bytes(120));
  std::vector<std::byte> into(300);
  const OpId id = post_recv(into);
  for (const wire::Packet& p : frags) deliver(p);
  ASSERT_TRUE(b.done(id));
  EXPECT_EQ(b.status(id).code(), StatusCode::mismatch);
  EXPECT_NE(b.status(id).message().find("got 120 B"), std::string::npos) << b.status(id).message();
}

TEST_F(HostEndpointP2p, ZeroByteMessagesAreOneEmptyFragment) {
  auto id = a.post_send(1, 3, nullptr, 0, out);
  ASSERT_TRUE(id.ok());
  Outbox frags = std::exchange(out, {});
  ASSERT_EQ(frags.size(), 1u);
  EXPECT_EQ(frags[0].header.count, 0u);
  EXPECT_EQ(frags[0].header.flags, wire::kFlagLast);
  EXPECT_EQ(frags[0].payload, nullptr);
  auto r = b.post_recv(0, 3, nullptr, 0);
  ASSERT_TRUE(r.ok());
  deliver(frags[0]);
  ASSERT_TRUE(b.done(*r));
  EXPECT_TRUE(b.status(*r).ok());
}

TEST_F(HostEndpointP2p, DuplicateFragmentsAreIgnored) {
  const auto data = bytes(250);
  Outbox frags = send(data);
  std::vector<std::byte> into(250);
  const OpId id = post_recv(into);
  deliver(frags[0]);
  wire::Packet forged = frags[0];
  forged.payload = wire::make_payload(bytes(100, 99).data(), 100);
  deliver(forged);
  EXPECT_EQ(b.counters().p2p_duplicates, 1u);
  deliver(frags[1]);
  deliver(frags[2]);
  ASSERT_TRUE(b.done(id));
  EXPECT_TRUE(b.status(id).ok());
  EXPECT_EQ(into, data);
}

TEST_F(HostEndpointP2p, ForeignPacketsAreDropped) {
  Outbox frags = send(bytes(20));
  wire::Packet wrong_key = frags[0];
  wrong_key.header.key_tag ^= 1;
  deliver(wrong_key);
  wire::Packet contribution = frags[0];
  contribution.header.type = wire::PacketType::contribution;
  deliver(contribution);
  EXPECT_EQ(b.counters().dropped, 2u);
  EXPECT_EQ(b.counters().p2p_fragments_received, 0u);
}

TEST_F(HostEndpointP2p, RejectsBadRanksAndNullBuffers) {
  std::vector<std::byte> buf(8);
  EXPECT_EQ(a.post_send(3, 0, buf.data(), 8, out).status().code(), StatusCode::invalid_argument);
  EXPECT_EQ(a.post_send(1, 0, nullptr, 8, out).status().code(), StatusCode::invalid_argument);
  EXPECT_EQ(b.post_recv(3, 0, buf.data(), 8).status().code(), StatusCode::invalid_argument);
  EXPECT_EQ(b.post_recv(0, 0, nullptr, 8).status().code(), StatusCode::invalid_argument);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(a.counters().packets_sent, 0u);
}

}  // namespace
}  // namespace inca::protocol
