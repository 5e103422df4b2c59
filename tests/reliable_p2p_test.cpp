// Point-to-point reliability of the sans-I/O endpoint, driven by hand:
// acknowledgements, sends that complete when acknowledged, timeouts that
// probe with the last fragment, partial acknowledgements that resend only
// what is missing, duplicate suppression after delivery, retired tags,
// message kinds that must match, and giving up with `timeout`.
#include <gtest/gtest.h>

#include <utility>

#include "protocol/host_endpoint.hpp"
#include "test_support.hpp"

namespace inca::protocol {
namespace {

constexpr Time kRto = 100 * kPicosPerMicro;

EndpointConfig reliable(std::uint32_t rank) {
  EndpointConfig c;
  c.rank = rank;
  c.address = 10 + rank;
  c.rank_address = {10, 11};
  c.job = 7;
  c.key_tag = 0x5eed;
  c.p2p_payload_bytes = 100;
  c.retransmit_timeout = kRto;
  c.max_retransmits = 3;
  c.reliable_p2p = true;
  return c;
}

std::vector<std::byte> bytes(std::size_t n, int seed = 1) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 13 + seed) & 0xff);
  return v;
}

struct ReliableP2p : ::testing::Test {
  HostEndpoint a{reliable(0)};
  HostEndpoint b{reliable(1)};

  // Hands every packet of `from` to `to` at time `now`; returns what `to` sent back.
  static Outbox deliver(HostEndpoint& to, const Outbox& from, Time now = 0) {
    Outbox back;
    for (const wire::Packet& p : from) to.on_packet(p, now, back);
    return back;
  }
  Outbox send(const std::vector<std::byte>& data, OpId& id, std::uint16_t tag = 3,
              MessageKind kind = {}) {
    Outbox out;
    auto r = a.post_send(1, tag, kind, data.data(), data.size(), 0, out);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    id = r.ok() ? *r : 0;
    return out;
  }
};

TEST_F(ReliableP2p, ASendCompletesWhenTheWholeMessageIsAcknowledged) {
  const auto data = bytes(250);
  OpId sent = 0;
  Outbox frags = send(data, sent);
  ASSERT_EQ(frags.size(), 3u);
  EXPECT_FALSE(a.done(sent));
  EXPECT_TRUE(a.pending(sent));
  EXPECT_EQ(a.next_deadline(), kRto);

  std::vector<std::byte> into(250);
  auto got = b.post_recv(0, 3, into.data(), into.size());
  ASSERT_TRUE(got.ok());
  Outbox acks = deliver(b, frags);
  ASSERT_EQ(acks.size(), 1u);  // one acknowledgement per message, not per fragment
  EXPECT_EQ(acks[0].header.type, wire::PacketType::ack);
  EXPECT_TRUE(acks[0].header.has(wire::kFlagLast));
  EXPECT_EQ(acks[0].dst, 10u);
  EXPECT_EQ(b.counters().acks_sent, 1u);
  EXPECT_TRUE(b.done(*got));
  EXPECT_EQ(into, data);

  EXPECT_TRUE(deliver(a, acks).empty());
  ASSERT_TRUE(a.done(sent));
  EXPECT_TRUE(a.status(sent).ok());
  EXPECT_EQ(a.next_deadline(), kNever);
}

TEST_F(ReliableP2p, MessagesThatArriveBeforeTheirReceiveAreAcknowledgedAtOnce) {
  OpId sent = 0;
  Outbox acks = deliver(b, send(bytes(30), sent));
  ASSERT_EQ(acks.size(), 1u);  // the transport acknowledges; matching comes later
  deliver(a, acks);
  EXPECT_TRUE(a.done(sent));
  std::vector<std::byte> into(30);
  auto got = b.post_recv(0, 3, into.data(), into.size());
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(b.done(*got));
  EXPECT_EQ(into, bytes(30));
}

// Found by fuzz_endpoint: a fragment claiming an offset near 4 GiB made the
// receiver grow its arrival bitmap to match (hundreds of MB per forged packet).
// Before the receive is posted such a fragment is dropped and counted; after
// it, a fragment past the receive's end fails the receive with mismatch.
TEST_F(ReliableP2p, FragmentsFarBeyondWhatCanBeBufferedAreDropped) {
  OpId sent = 0;
  Outbox frags = send(bytes(30), sent);
  ASSERT_EQ(frags.size(), 1u);
  wire::Packet forged = frags[0];
  forged.header.flags = 0;
  forged.header.sequence = 0xffffff00u / 100 * 100;  // a whole number of fragments
  const auto dropped = b.counters().dropped;
  EXPECT_TRUE(deliver(b, {forged}).empty());
  EXPECT_EQ(b.counters().dropped, dropped + 1);
  // The real message still arrives and completes.
  deliver(a, deliver(b, frags));
  std::vector<std::byte> into(30);
  auto got = b.post_recv(0, 3, into.data(), into.size());
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(b.done(*got));
  EXPECT_EQ(into, bytes(30));

  // With the receive posted, the same forgery is a mismatch for it.
  auto next = b.post_recv(0, 3, into.data(), into.size());
  ASSERT_TRUE(next.ok());
  forged.header.slot = 1;  // the next message number of the stream
  deliver(b, {forged});
  ASSERT_TRUE(b.done(*next));
  EXPECT_EQ(b.status(*next).code(), StatusCode::mismatch);
}

TEST_F(ReliableP2p, ATimeoutProbesWithTheLastFragmentAndThePartialAnswerResendsTheRest) {
  const auto data = bytes(250);
  OpId sent = 0;
  Outbox frags = send(data, sent);
  std::vector<std::byte> into(250);
  auto got = b.post_recv(0, 3, into.data(), into.size());
  // Fragment 1 is lost; the last one arrives and is answered with a bitmap.
  Outbox partial = deliver(b, {frags[0], frags[2]});
  ASSERT_EQ(partial.size(), 1u);
  EXPECT_FALSE(partial[0].header.has(wire::kFlagLast));
  // Before any timeout a partial answer only records what arrived.
  EXPECT_TRUE(deliver(a, partial).empty());

  Outbox probe;
  a.on_timer(kRto, probe);
  ASSERT_EQ(probe.size(), 1u);
  EXPECT_EQ(probe[0].header.sequence, 200u);  // the last fragment
  Outbox answer = deliver(b, probe, kRto);
  ASSERT_EQ(answer.size(), 1u);
  Outbox resent = deliver(a, answer, kRto);
  ASSERT_EQ(resent.size(), 1u);  // only the missing fragment
  EXPECT_EQ(resent[0].header.sequence, 100u);
  deliver(a, deliver(b, resent, kRto), kRto);
  EXPECT_TRUE(b.done(*got));
  EXPECT_EQ(into, data);
  EXPECT_TRUE(a.done(sent));
  EXPECT_EQ(a.counters().p2p_retransmissions, 2u);
}

TEST_F(ReliableP2p, LateDuplicatesOfADeliveredMessageAreDroppedButAcknowledged) {
  const auto data = bytes(150);
  OpId sent = 0;
  Outbox frags = send(data, sent);
  std::vector<std::byte> into(150);
  auto got = b.post_recv(0, 3, into.data(), into.size());
  deliver(b, frags);  // delivered; its acknowledgement is lost
  ASSERT_TRUE(b.done(*got));
  b.release(*got);
  std::fill(into.begin(), into.end(), std::byte{0});

  Outbox probe;
  a.on_timer(kRto, probe);
  Outbox ack = deliver(b, probe, kRto);
  ASSERT_EQ(ack.size(), 1u);  // consumed: answered as complete, never written again
  EXPECT_TRUE(ack[0].header.has(wire::kFlagLast));
  EXPECT_EQ(into, std::vector<std::byte>(150));
  EXPECT_EQ(b.counters().p2p_duplicates, 1u);
  deliver(a, ack, kRto);
  EXPECT_TRUE(a.done(sent));
  EXPECT_TRUE(a.status(sent).ok());

  // The next message on the same (peer, tag) is a new one.
  OpId second = 0;
  Outbox next = send(bytes(20, 9), second);
  std::vector<std::byte> into2(20);
  auto got2 = b.post_recv(0, 3, into2.data(), into2.size());
  deliver(b, next);
  EXPECT_TRUE(b.done(*got2));
  EXPECT_EQ(into2, bytes(20, 9));
}

TEST_F(ReliableP2p, AnUnacknowledgedSendFailsWithTimeoutAfterItsRetransmissions) {
  OpId sent = 0;
  send(bytes(50), sent);
  Outbox out;
  Time now = 0;
  for (int i = 0; i < 10 && !a.done(sent); ++i) {
    now = a.next_deadline();
    a.on_timer(now, out);
  }
  ASSERT_TRUE(a.done(sent));
  EXPECT_EQ(a.status(sent).code(), StatusCode::timeout);
  EXPECT_NE(a.status(sent).message().find("not acknowledged after 3 retransmissions"),
            std::string::npos)
      << a.status(sent).message();
  EXPECT_EQ(a.counters().timeouts, 1u);
  EXPECT_EQ(a.next_deadline(), kNever);
  EXPECT_EQ(now, kRto * (1 + 2 + 4 + 8));  // doubling backoff
}

// Eager sends (up to eager_send_bytes) complete when handed to the fabric,
// so the caller may reuse its buffer at once; the channel still resends its
// own copy until acknowledged, and a loss shows as the receiver's timeout
// only. Larger sends still wait for their acknowledgement.
TEST_F(ReliableP2p, EagerSendsCompleteAtOnceAndAreStillRetransmittedFromTheirCopy) {
  EndpointConfig c = reliable(0);
  c.eager_send_bytes = 200;
  HostEndpoint sender(c);
  auto data = bytes(150, 4);
  Outbox lost;
  auto eager = sender.post_send(1, 3, data.data(), data.size(), lost);
  ASSERT_TRUE(eager.ok());
  EXPECT_TRUE(sender.done(*eager));
  EXPECT_FALSE(sender.pending(*eager));
  EXPECT_TRUE(sender.status(*eager).ok());
  sender.release(*eager);
  std::fill(data.begin(), data.end(), std::byte{0});  // the caller reuses its buffer

  // The first sending was lost: timeouts probe, the receiver's answers make
  // the sender resend the rest, from its copy.
  std::vector<std::byte> into(150);
  auto got = b.post_recv(0, 3, into.data(), into.size());
  ASSERT_TRUE(got.ok());
  for (int round = 0; round < 8 && !b.done(*got); ++round) {
    Outbox out;
    sender.on_timer(sender.next_deadline(), out);
    while (!out.empty()) out = deliver(sender, deliver(b, out));
  }
  ASSERT_TRUE(b.done(*got));
  EXPECT_EQ(into, bytes(150, 4));  // the channel's copy, not the reused buffer
  EXPECT_FALSE(sender.done(*eager)) << "an acknowledgement re-finished a released send";
  EXPECT_EQ(sender.next_deadline(), kNever);

  Outbox rendezvous;
  const auto big = bytes(250, 5);
  auto waits = sender.post_send(1, 4, big.data(), big.size(), rendezvous);
  ASSERT_TRUE(waits.ok());
  EXPECT_FALSE(sender.done(*waits));
  std::vector<std::byte> big_into(250);
  auto got_big = b.post_recv(0, 4, big_into.data(), big_into.size());
  ASSERT_TRUE(got_big.ok());
  deliver(sender, deliver(b, rendezvous));
  EXPECT_TRUE(sender.done(*waits));
  EXPECT_EQ(big_into, big);
}

TEST_F(ReliableP2p, GiveUpAfterBoundsTheTimeAMessageMayWait) {
  EndpointConfig c = reliable(0);
  c.max_retransmits = 1000;
  c.give_up_after = 5 * kRto;
  HostEndpoint sender(c);
  Outbox out;
  auto id = sender.post_send(1, 3, bytes(10).data(), 10, out);
  ASSERT_TRUE(id.ok());
  Time now = 0;
  while (!sender.done(*id)) sender.on_timer(now = sender.next_deadline(), out);
  EXPECT_EQ(sender.status(*id).code(), StatusCode::timeout);
  EXPECT_GE(now, 5 * kRto);
  EXPECT_LT(now, 5 * kRto + (kRto << 16));
}

TEST_F(ReliableP2p, AMessageOfAnotherKindFailsTheReceiveWithMismatch) {
  OpId sent = 0;
  Outbox frags = send(bytes(40), sent, 3, {Dtype::f32, ReduceOp::max});
  std::vector<std::byte> into(40);
  auto got = b.post_recv(0, 3, {Dtype::f32, ReduceOp::sum}, into.data(), into.size());
  ASSERT_TRUE(got.ok());
  Outbox acks = deliver(b, frags);
  ASSERT_TRUE(b.done(*got));
  EXPECT_EQ(b.status(*got).code(), StatusCode::mismatch);
  EXPECT_NE(b.status(*got).message().find("f32 max"), std::string::npos)
      << b.status(*got).message();
  // The sender still learns the message arrived: it must not retransmit forever.
  deliver(a, acks);
  EXPECT_TRUE(a.done(sent));
}

TEST_F(ReliableP2p, ARetiredTagDropsItsReceivesAndAcknowledgesLateFragments) {
  std::vector<std::byte> into(40);
  auto got = b.post_recv(0, 0x8123, into.data(), into.size());
  ASSERT_TRUE(got.ok());
  b.retire_tag(0x8123);
  EXPECT_FALSE(b.pending(*got));  // nobody waits for it any more
  OpId sent = 0;
  Outbox acks = deliver(b, send(bytes(40), sent, 0x8123));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_TRUE(acks[0].header.has(wire::kFlagLast));
  EXPECT_EQ(into, std::vector<std::byte>(40));  // never written
  deliver(a, acks);
  EXPECT_TRUE(a.done(sent));
}

// A sender's retired tag starts its numbering again; a message still
// unacknowledged keeps being retransmitted until a new message takes its
// number (it was sent 2^15 messages ago, as far as the wire can tell).
TEST_F(ReliableP2p, ARetiredTagsUnacknowledgedMessageLivesUntilItsNumberIsReused) {
  OpId old_send = 0;
  Outbox first = send(bytes(40), old_send, 0x8124);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].header.slot, 0u);
  a.retire_tag(0x8124);
  EXPECT_EQ(a.next_deadline(), kRto);
  Outbox probe;
  a.on_timer(kRto, probe);
  ASSERT_EQ(probe.size(), 1u);  // still retransmitted
  EXPECT_EQ(probe[0].header.slot, 0u);

  OpId fresh = 0;
  Outbox second = send(bytes(20), fresh, 0x8124);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].header.slot, 0u);  // numbering started again
  std::vector<std::byte> into(20);
  auto got = b.post_recv(0, 0x8124, into.data(), into.size());
  ASSERT_TRUE(got.ok());
  deliver(a, deliver(b, second));
  EXPECT_TRUE(a.done(fresh));
  EXPECT_EQ(into, bytes(20));
  Outbox later;
  a.on_timer(100 * kRto, later);
  EXPECT_TRUE(later.empty());  // the old message was superseded
  EXPECT_EQ(a.next_deadline(), kNever);
}

// Acknowledgements may come in any order; each finds its own message.
TEST_F(ReliableP2p, AcknowledgementsInAnyOrderCompleteTheirOwnMessages) {
  OpId ids[3] = {};
  Outbox sent[3];
  for (int i = 0; i < 3; ++i) sent[i] = send(bytes(30, i), ids[i], 5);
  Outbox acks[3];
  std::vector<std::byte> into[3];
  for (int i = 0; i < 3; ++i) {
    into[i].resize(30);
    ASSERT_TRUE(b.post_recv(0, 5, into[i].data(), 30).ok());
  }
  for (int i : {2, 0, 1}) acks[i] = deliver(b, sent[i]);
  deliver(a, acks[2]);
  EXPECT_TRUE(a.done(ids[2]));
  EXPECT_FALSE(a.done(ids[0]));
  EXPECT_FALSE(a.done(ids[1]));
  deliver(a, acks[0]);
  EXPECT_TRUE(a.done(ids[0]));
  EXPECT_FALSE(a.done(ids[1]));
  deliver(a, acks[2]);  // a late repeat changes nothing
  deliver(a, acks[1]);
  EXPECT_TRUE(a.done(ids[1]));
  EXPECT_EQ(a.next_deadline(), kNever);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(into[i], bytes(30, i));
  // The stream goes on numbering after the holes were trimmed.
  OpId next = 0;
  Outbox fourth = send(bytes(30), next, 5);
  EXPECT_EQ(fourth[0].header.slot, 3u);
}

TEST_F(ReliableP2p, AbortFailsPendingSendsAndReceives) {
  OpId sent = 0;
  send(bytes(10), sent);
  std::vector<std::byte> into(10);
  auto got = a.post_recv(1, 4, into.data(), into.size());
  a.abort_all(make_error(StatusCode::timeout, "stalled"));
  EXPECT_EQ(a.status(sent).code(), StatusCode::timeout);
  EXPECT_EQ(a.status(*got).code(), StatusCode::timeout);
  EXPECT_EQ(a.next_deadline(), kNever);
}

TEST_F(ReliableP2p, AdaptiveTimeoutsFollowTheMeasuredRoundTrip) {
  EndpointConfig c = reliable(0);
  c.adaptive_timeout = true;
  c.min_retransmit_timeout = kPicosPerMicro;
  c.initial_retransmit_timeout = kRto;
  HostEndpoint sender(c);
  HostEndpoint receiver(reliable(1));
  const Time rtt = 2 * kPicosPerMicro;
  Time now = 0;
  for (int i = 0; i < 20; ++i) {
    Outbox out;
    auto id = sender.post_send(1, 3, {}, bytes(10).data(), 10, now, out);
    ASSERT_TRUE(id.ok());
    if (i == 0) {
      EXPECT_EQ(sender.next_deadline(), now + kRto);  // before any measurement
    }
    deliver(sender, deliver(receiver, out, now), now + rtt);
    ASSERT_TRUE(sender.done(*id));
    now += 10 * kPicosPerMicro;
  }
  Outbox out;
  ASSERT_TRUE(sender.post_send(1, 3, {}, bytes(10).data(), 10, now, out).ok());
  EXPECT_EQ(sender.next_deadline(), now + 3 * rtt);  // three round trips
}

}  // namespace
}  // namespace inca::protocol
