// Tests of the control-channel codec: every request and reply round-trips,
// and every malformed frame is rejected with a message (never a crash).
#include "wire/control_codec.hpp"

#include <gtest/gtest.h>

#include <random>

namespace inca::wire {
namespace {

using Bytes = std::vector<std::byte>;

TreeInstall sample_tree() {
  TreeInstall t;
  t.job = 0x01020304;
  t.key_tag = 0xdeadbeef;
  t.tree = 77;
  t.slot_base = 16;
  t.slot_count = 64;
  t.slot_payload_bytes = 1024;
  t.parent_port = 5;
  t.index_at_parent = 2;
  t.child_ports = {0, 1, 3};
  return t;
}

SwitchInfo sample_info() {
  SwitchInfo info;
  info.name = "leaf0";
  info.ipv4 = 0x0a4d00fe;
  info.udp_port = 4792;
  info.slots = 512;
  info.slot_payload_bytes = 1024;
  info.free_slots = 448;
  info.trees = 1;
  info.ports = {{"net_memif0", {2, 0, 0, 0, 0, 1}}, {"net_af_packet1", {2, 0, 0, 0, 0, 2}}};
  return info;
}

Bytes encode_or_die(const ControlRequest& r) {
  auto f = encode_control(r);
  EXPECT_TRUE(f.ok()) << f.status().to_string();
  return f.ok() ? *f : Bytes{};
}

Bytes encode_or_die(const ControlReply& r) {
  auto f = encode_control(r);
  EXPECT_TRUE(f.ok()) << f.status().to_string();
  return f.ok() ? *f : Bytes{};
}

TEST(ControlCodec, RequestsRoundTrip) {
  NeighborAddress n{3, {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}, 0x0a000001, 4800};
  QpConnect qp;
  qp.job = 7;
  qp.port = 2;
  qp.mac = {0x02, 1, 2, 3, 4, 5};
  qp.ipv4 = 0x0a5a0001;
  qp.qpn = 0xabcdef;
  qp.psn = 0x123456;
  qp.mtu = 4096;
  qp.ring_va = 0x7f0012345678ull;
  qp.ring_rkey = 0xdeadbeef;
  qp.ring_entries = 1024;
  qp.ring_entry_bytes = 4128;
  const std::vector<ControlRequestBody> bodies = {
      PingRequest{},      sample_tree(), TreeRemove{9, 77}, n, CountersRequest{}, qp,
      QpDisconnect{0x101}};
  std::uint32_t id = 100;
  for (const auto& body : bodies) {
    const ControlRequest req{id++, body};
    const Bytes frame = encode_or_die(req);
    auto size = control_frame_size(frame);
    ASSERT_TRUE(size.ok());
    EXPECT_EQ(*size, frame.size());
    auto back = decode_control_request(frame);
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_EQ(back->id, req.id);
    EXPECT_EQ(back->kind(), req.kind());
    if (const auto* t = std::get_if<TreeInstall>(&body)) {
      const auto& u = std::get<TreeInstall>(back->body);
      EXPECT_EQ(u.job, t->job);
      EXPECT_EQ(u.key_tag, t->key_tag);
      EXPECT_EQ(u.tree, t->tree);
      EXPECT_EQ(u.slot_base, t->slot_base);
      EXPECT_EQ(u.slot_count, t->slot_count);
      EXPECT_EQ(u.slot_payload_bytes, t->slot_payload_bytes);
      EXPECT_EQ(u.parent_port, t->parent_port);
      EXPECT_EQ(u.index_at_parent, t->index_at_parent);
      EXPECT_EQ(u.child_ports, t->child_ports);
    }
    if (std::holds_alternative<NeighborAddress>(body)) {
      const auto& m = std::get<NeighborAddress>(back->body);
      EXPECT_EQ(m.port, n.port);
      EXPECT_EQ(m.mac, n.mac);
      EXPECT_EQ(m.ipv4, n.ipv4);
      EXPECT_EQ(m.udp_port, n.udp_port);
    }
    if (std::holds_alternative<TreeRemove>(body)) {
      EXPECT_EQ(std::get<TreeRemove>(back->body).job, 9u);
      EXPECT_EQ(std::get<TreeRemove>(back->body).tree, 77);
    }
    if (std::holds_alternative<QpConnect>(body)) {
      EXPECT_EQ(std::get<QpConnect>(back->body), qp);
    }
    if (std::holds_alternative<QpDisconnect>(body)) {
      EXPECT_EQ(std::get<QpDisconnect>(back->body).qpn, 0x101u);
    }
  }
}

TEST(ControlCodec, RepliesRoundTrip) {
  const SwitchInfo info = sample_info();
  auto ping = decode_control_reply(encode_or_die(ControlReply{1, ControlKind::ping, {}, info}));
  ASSERT_TRUE(ping.ok()) << ping.status().to_string();
  const auto& got = std::get<SwitchInfo>(ping->body);
  EXPECT_EQ(got.name, info.name);
  EXPECT_EQ(got.ipv4, info.ipv4);
  EXPECT_EQ(got.udp_port, info.udp_port);
  EXPECT_EQ(got.free_slots, info.free_slots);
  EXPECT_EQ(got.trees, info.trees);
  ASSERT_EQ(got.ports.size(), 2u);
  EXPECT_EQ(got.ports[1].name, "net_af_packet1");
  EXPECT_EQ(got.ports[1].mac, info.ports[1].mac);

  const std::vector<Counter> counters = {{"port0.rx_packets", 12}, {"engine.results", 1ull << 40}};
  auto c =
      decode_control_reply(encode_or_die(ControlReply{2, ControlKind::get_counters, {}, counters}));
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  const auto& cs = std::get<std::vector<Counter>>(c->body);
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[1].name, "engine.results");
  EXPECT_EQ(cs[1].value, 1ull << 40);

  auto qp = decode_control_reply(
      encode_or_die(ControlReply{4, ControlKind::connect_qp, {}, QpInfo{0x100, 0xfedcba}}));
  ASSERT_TRUE(qp.ok()) << qp.status().to_string();
  EXPECT_EQ(std::get<QpInfo>(qp->body), (QpInfo{0x100, 0xfedcba}));
  // A connect_qp reply carries its QpInfo exactly when it is ok.
  EXPECT_FALSE(encode_control(ControlReply{5, ControlKind::connect_qp, {}, {}}).ok());
  EXPECT_FALSE(encode_control(ControlReply{5, ControlKind::get_counters, {}, QpInfo{}}).ok());

  const Status refused = make_error(StatusCode::no_resource, "tree wants 64 slots; 3 free");
  auto e =
      decode_control_reply(encode_or_die(ControlReply{3, ControlKind::install_tree, refused, {}}));
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(e->kind, ControlKind::install_tree);
  EXPECT_EQ(e->status.code(), StatusCode::no_resource);
  EXPECT_EQ(e->status.message(), refused.message());
}

TEST(ControlCodec, EncoderRefusesWhatTheDecoderWouldReject) {
  TreeInstall big = sample_tree();
  big.child_ports.assign(kControlMaxChildren + 1, 0);
  EXPECT_EQ(encode_control(ControlRequest{1, big}).status().code(), StatusCode::invalid_argument);
  SwitchInfo info = sample_info();
  info.name = std::string(kControlMaxStringBytes + 1, 'x');
  EXPECT_FALSE(encode_control(ControlReply{1, ControlKind::ping, {}, info}).ok());
  info.name = "bad\nname";
  EXPECT_FALSE(encode_control(ControlReply{1, ControlKind::ping, {}, info}).ok());
  // The body must match the kind and status.
  EXPECT_FALSE(encode_control(ControlReply{1, ControlKind::ping, {}, {}}).ok());
  EXPECT_FALSE(encode_control(ControlReply{1, ControlKind::install_tree, {}, sample_info()}).ok());
}

TEST(ControlCodec, FrameSizeWaitsForWholeFrames) {
  const Bytes frame = encode_or_die(ControlRequest{5, sample_tree()});
  for (std::size_t n = 0; n < frame.size(); ++n) {
    auto size = control_frame_size(std::span(frame).first(n));
    ASSERT_TRUE(size.ok());
    EXPECT_EQ(*size, 0u) << "prefix of " << n << " bytes";
  }
  Bytes two = frame;
  two.insert(two.end(), frame.begin(), frame.end());
  EXPECT_EQ(*control_frame_size(two), frame.size());
}

TEST(ControlCodec, RejectsBadLengthPrefix) {
  Bytes tiny = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{2}, std::byte{1}, std::byte{1}};
  EXPECT_EQ(control_frame_size(tiny).status().code(), StatusCode::malformed_packet);
  Bytes huge = {std::byte{0x7f}, std::byte{0xff}, std::byte{0xff}, std::byte{0xff}};
  EXPECT_EQ(control_frame_size(huge).status().code(), StatusCode::malformed_packet);
  EXPECT_FALSE(decode_control_request(huge).ok());
}

TEST(ControlCodec, RejectsEveryTruncationAndTrailingBytes) {
  for (const ControlRequestBody& body :
       std::vector<ControlRequestBody>{sample_tree(), TreeRemove{1, 2}, NeighborAddress{}}) {
    Bytes frame = encode_or_die(ControlRequest{1, body});
    // Shorten the body but keep the prefix consistent: the field reader must stop.
    for (std::size_t cut = 1; cut + kControlLengthBytes + kControlMinBodyBytes <= frame.size();
         ++cut) {
      Bytes shorter(frame.begin(), frame.end() - static_cast<std::ptrdiff_t>(cut));
      const std::size_t body_len = shorter.size() - kControlLengthBytes;
      for (int i = 0; i < 4; ++i) shorter[i] = static_cast<std::byte>(body_len >> (8 * (3 - i)));
      auto r = decode_control_request(shorter);
      EXPECT_FALSE(r.ok()) << "cut " << cut;
      EXPECT_EQ(r.status().code(), StatusCode::malformed_packet);
    }
    Bytes longer = frame;
    longer.push_back(std::byte{0});
    const std::size_t body_len = longer.size() - kControlLengthBytes;
    for (int i = 0; i < 4; ++i) longer[i] = static_cast<std::byte>(body_len >> (8 * (3 - i)));
    auto r = decode_control_request(longer);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("after the end"), std::string::npos)
        << r.status().message();
    // A frame with bytes after it (as one call) is rejected too.
    Bytes glued = frame;
    glued.push_back(std::byte{0});
    EXPECT_FALSE(decode_control_request(glued).ok());
  }
}

TEST(ControlCodec, RejectsBadHeaderFields) {
  const Bytes ping = encode_or_die(ControlRequest{1, PingRequest{}});
  Bytes bad_version = ping;
  bad_version[4] = std::byte{9};
  auto v = decode_control_request(bad_version);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("version"), std::string::npos);
  Bytes bad_kind = ping;
  bad_kind[5] = std::byte{42};
  EXPECT_FALSE(decode_control_request(bad_kind).ok());
  // A reply is not a request and vice versa.
  EXPECT_FALSE(decode_control_reply(ping).ok());
  const Bytes reply = encode_or_die(ControlReply{1, ControlKind::remove_tree, {}, {}});
  EXPECT_FALSE(decode_control_request(reply).ok());
  Bytes bad_status = reply;
  bad_status[10] = std::byte{200};
  EXPECT_FALSE(decode_control_reply(bad_status).ok());
}

TEST(ControlCodec, RejectsOversizedListsAndBadStrings) {
  // A child count above the limit, announced with no children behind it.
  Bytes frame = encode_or_die(ControlRequest{1, sample_tree()});
  const std::size_t count_at = kControlLengthBytes + kControlMinBodyBytes + 22;
  frame[count_at] = std::byte{0xff};
  frame[count_at + 1] = std::byte{0xff};
  auto r = decode_control_request(frame);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("child count"), std::string::npos) << r.status().message();

  Bytes info = encode_or_die(ControlReply{1, ControlKind::ping, {}, sample_info()});
  // The switch name starts after status code and empty message (1 + 2 bytes).
  const std::size_t name_at = kControlLengthBytes + kControlMinBodyBytes + 3 + 2;
  info[name_at] = std::byte{0x07};
  auto s = decode_control_reply(info);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("printable"), std::string::npos);
}

TEST(ControlCodec, RandomMutationsNeverCrash) {
  std::mt19937 rng(12345);
  const std::vector<Bytes> seeds = {
      encode_or_die(ControlRequest{1, sample_tree()}),
      encode_or_die(ControlRequest{2, NeighborAddress{}}),
      encode_or_die(ControlReply{3, ControlKind::ping, {}, sample_info()}),
      encode_or_die(ControlReply{4, ControlKind::get_counters, {}, std::vector<Counter>{{"a", 1}}}),
  };
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes b = seeds[i % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) b[rng() % b.size()] = static_cast<std::byte>(rng());
    if (rng() % 4 == 0) b.resize(rng() % (b.size() + 1));
    accepted += decode_control_request(b).ok();
    accepted += decode_control_reply(b).ok();
    (void)control_frame_size(b);
  }
  EXPECT_GT(accepted, 0);  // some mutations only touch values
}

TEST(ControlCodec, Ipv4TextRoundTrips) {
  auto ip = parse_ipv4("10.77.0.254");
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(*ip, 0x0a4d00feu);
  EXPECT_EQ(format_ipv4(*ip), "10.77.0.254");
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "1.2.3.4.5", "a.b.c.d", "1..2.3", "1.2.3.4 "})
    EXPECT_FALSE(parse_ipv4(bad).ok()) << bad;
  EXPECT_EQ(format_mac({0x02, 0, 0xab, 0, 0, 0xff}), "02:00:ab:00:00:ff");
}

}  // namespace
}  // namespace inca::wire
