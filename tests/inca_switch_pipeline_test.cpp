// Tests of what inca-switch decides per frame, without DPDK: ARP for the
// switch's address, layer-2 learning and flooding, aggregation through the
// shared engine with learned and configured neighbour addresses, and every
// drop reason for malformed or forged traffic.
#include "dpdk/switch_pipeline.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "support/udp_frames.hpp"

namespace inca::dpdk_switch {
namespace {

using Bytes = std::vector<std::byte>;
using test::udp_frame;

constexpr std::uint32_t kSwitchIp = 0x0a4d00fe;  // 10.77.0.254
constexpr std::uint32_t kJob = 5;
constexpr std::uint32_t kKey = 0xabcd;
constexpr std::uint16_t kTree = 3;

MacAddress port_mac(int i) {
  return {0x02, 0x5e, 0, 0, 0, static_cast<std::uint8_t>(i)};
}
UdpEndpoint host(int i) {
  return {{0x02, 0x11, 0, 0, 0, static_cast<std::uint8_t>(i)},
          0x0a4d0001u + static_cast<std::uint32_t>(i),
          static_cast<std::uint16_t>(40000 + i)};
}

SwitchPipeline make_pipeline(int ports) {
  PipelineConfig cfg;
  cfg.name = "sw";
  cfg.ipv4 = kSwitchIp;
  cfg.engine.slots = 64;
  cfg.engine.slot_payload_bytes = 256;
  std::vector<PortIdentity> ids;
  for (int i = 0; i < ports; ++i) ids.push_back({"port" + std::to_string(i), port_mac(i)});
  return SwitchPipeline(cfg, ids);
}

Bytes contribution(std::uint16_t child, std::uint32_t seq, std::int32_t value,
                   std::uint32_t key = kKey, std::uint16_t tree = kTree) {
  wire::Header h;
  h.type = wire::PacketType::contribution;
  h.dtype = Dtype::i32;
  h.child = child;
  h.job = kJob;
  h.key_tag = key;
  h.tree = tree;
  h.slot = static_cast<std::uint16_t>(seq % 4);
  h.sequence = seq;
  h.count = 4;
  const std::int32_t v[4] = {value, value, value, value};
  Bytes out(wire::kHeaderBytes + sizeof(v));
  EXPECT_GT(wire::encode(h, std::as_bytes(std::span(v)), out), 0u);
  return out;
}

Bytes to_switch(int from_host, std::span<const std::byte> inca, int port = -1) {
  UdpEndpoint sw{port_mac(port < 0 ? from_host : port), kSwitchIp, wire::kDefaultUdpPort};
  return udp_frame(host(from_host), sw, inca);
}

Bytes arp_request(const MacAddress& from, std::uint32_t from_ip, std::uint32_t target_ip) {
  Bytes f(42);
  auto put = [&](std::size_t off, std::initializer_list<std::uint8_t> b) {
    for (auto x : b) f[off++] = static_cast<std::byte>(x);
  };
  put(0, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  std::memcpy(f.data() + 6, from.data(), 6);
  put(12, {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1});
  std::memcpy(f.data() + 22, from.data(), 6);
  put(28, {static_cast<std::uint8_t>(from_ip >> 24), static_cast<std::uint8_t>(from_ip >> 16),
           static_cast<std::uint8_t>(from_ip >> 8), static_cast<std::uint8_t>(from_ip)});
  put(38, {static_cast<std::uint8_t>(target_ip >> 24), static_cast<std::uint8_t>(target_ip >> 16),
           static_cast<std::uint8_t>(target_ip >> 8), static_cast<std::uint8_t>(target_ip)});
  return f;
}

wire::TreeInstall star_tree(std::vector<std::uint16_t> ports) {
  wire::TreeInstall t;
  t.job = kJob;
  t.key_tag = kKey;
  t.tree = kTree;
  t.slot_count = 4;
  t.slot_payload_bytes = 256;
  t.child_ports = std::move(ports);
  return t;
}

Status control(SwitchPipeline& p, wire::ControlRequestBody body) {
  return p.on_control({1, std::move(body)}).status;
}

Bytes concat(const TxFrame& f) {
  Bytes b(f.head.begin(), f.head.end());
  b.insert(b.end(), f.body.begin(), f.body.end());
  return b;
}

TEST(SwitchPipeline, AnswersArpForItsAddressAndFloodsOtherArp) {
  SwitchPipeline p = make_pipeline(3);
  auto v = p.on_frame(1, arp_request(host(1).mac, host(1).ipv4, kSwitchIp), 0);
  ASSERT_EQ(v.transmit.size(), 1u);
  EXPECT_TRUE(v.forward.empty());
  const Bytes bytes = concat(v.transmit[0]);
  ParsedFrame reply;
  ASSERT_EQ(parse_frame(bytes, reply), FrameError::none);
  EXPECT_EQ(v.transmit[0].port, 1);
  EXPECT_EQ(reply.kind, FrameKind::arp);
  EXPECT_EQ(reply.arp_op, 2);
  EXPECT_EQ(reply.src_mac, port_mac(1));
  EXPECT_EQ(reply.dst_mac, host(1).mac);
  EXPECT_EQ(reply.arp_sender_ip, kSwitchIp);
  EXPECT_EQ(p.port_counters(1).arp_replies, 1u);

  v = p.on_frame(0, arp_request(host(0).mac, host(0).ipv4, host(2).ipv4), 0);
  EXPECT_EQ(std::vector<std::uint16_t>(v.forward.begin(), v.forward.end()),
            (std::vector<std::uint16_t>{1, 2}));
}

TEST(SwitchPipeline, LearnsMacsAndForwardsUnicast) {
  SwitchPipeline p = make_pipeline(3);
  const Bytes payload(20, std::byte{1});
  UdpEndpoint a = host(0), b = host(2);
  a.port = b.port = 9;
  // Unknown destination: flooded; the source is learned.
  auto v = p.on_frame(0, udp_frame(a, b, payload), 0);
  EXPECT_EQ(v.forward.size(), 2u);
  v = p.on_frame(2, udp_frame(b, a, payload), 0);
  ASSERT_EQ(v.forward.size(), 1u);
  EXPECT_EQ(v.forward[0], 0);
  v = p.on_frame(0, udp_frame(a, b, payload), 0);
  ASSERT_EQ(v.forward.size(), 1u);
  EXPECT_EQ(v.forward[0], 2);
  // A destination learned on the ingress port is filtered.
  v = p.on_frame(2, udp_frame(b, b, payload), 0);
  EXPECT_TRUE(v.forward.empty());
  EXPECT_EQ(p.port_counters(2).dropped(DropReason::same_port), 1u);
  // Frames claiming one of the switch's own MACs are loops or echoes.
  UdpEndpoint spoof = a;
  spoof.mac = port_mac(1);
  v = p.on_frame(0, udp_frame(spoof, b, payload), 0);
  EXPECT_TRUE(v.forward.empty());
  EXPECT_EQ(p.port_counters(0).dropped(DropReason::own_source), 1u);
  // Entries age out.
  v = p.on_frame(0, udp_frame(a, b, payload), L2Table::kDefaultAgeNs + 10);
  EXPECT_EQ(v.forward.size(), 2u);
}

TEST(SwitchPipeline, AggregatesAndAddressesResultsToLearnedChildren) {
  SwitchPipeline p = make_pipeline(3);
  ASSERT_TRUE(control(p, star_tree({0, 2})).ok());
  auto v = p.on_frame(0, to_switch(0, contribution(0, 0, 5)), 0);
  EXPECT_TRUE(v.transmit.empty());
  v = p.on_frame(2, to_switch(2, contribution(1, 0, 7)), 0);
  ASSERT_EQ(v.transmit.size(), 2u);
  for (const TxFrame& tx : v.transmit) {
    const int h = tx.port;  // host h sits on port h
    const Bytes bytes = concat(tx);
    ParsedFrame f;
    ASSERT_EQ(parse_frame(bytes, f), FrameError::none);
    EXPECT_EQ(check_inca_datagram(f, true), DatagramError::none);
    EXPECT_EQ(f.dst_mac, host(h).mac);
    EXPECT_EQ(f.src_mac, port_mac(h));
    EXPECT_EQ(f.dst_ip, host(h).ipv4);
    EXPECT_EQ(f.src_ip, kSwitchIp);
    EXPECT_EQ(f.dst_port, host(h).port);
    EXPECT_EQ(f.src_port, wire::kDefaultUdpPort);
    wire::Header hdr;
    std::span<const std::byte> payload;
    ASSERT_EQ(wire::decode(f.udp_payload, hdr, payload), wire::DecodeError::none);
    EXPECT_EQ(hdr.type, wire::PacketType::result);
    std::int32_t sum[4];
    std::memcpy(sum, payload.data(), sizeof(sum));
    for (std::int32_t s : sum) EXPECT_EQ(s, 12);
  }
  EXPECT_EQ(p.port_counters(0).inca_tx, 1u);
  EXPECT_EQ(p.engine().counters().results, 1u);
}

TEST(SwitchPipeline, ForgedContributionsAreDroppedAndLearnNothing) {
  SwitchPipeline p = make_pipeline(3);
  ASSERT_TRUE(control(p, star_tree({0, 2})).ok());
  ASSERT_TRUE(p.on_frame(0, to_switch(0, contribution(0, 0, 5)), 0).transmit.empty());
  // From port 1 (host 1): wrong key, unknown tree, and child 1 which lives on port 2.
  p.on_frame(1, to_switch(1, contribution(0, 0, 100, kKey + 1)), 0);
  p.on_frame(1, to_switch(1, contribution(0, 0, 100, kKey, kTree + 1)), 0);
  p.on_frame(1, to_switch(1, contribution(1, 0, 100)), 0);
  const auto& e = p.engine().counters();
  EXPECT_EQ(e.drop_bad_key, 1u);
  EXPECT_EQ(e.drop_unknown_tree, 1u);
  EXPECT_EQ(e.drop_bad_child, 1u);
  // The real child 1 completes the chunk, and results go to the real hosts.
  auto v = p.on_frame(2, to_switch(2, contribution(1, 0, 7)), 0);
  ASSERT_EQ(v.transmit.size(), 2u);
  for (const TxFrame& tx : v.transmit) {
    const Bytes bytes = concat(tx);
    ParsedFrame f;
    ASSERT_EQ(parse_frame(bytes, f), FrameError::none);
    EXPECT_EQ(f.dst_mac, host(tx.port).mac);
  }
}

TEST(SwitchPipeline, RemembersTheLastEngineDropsWithSenderAndReason) {
  SwitchPipeline p = make_pipeline(3);
  ASSERT_TRUE(control(p, star_tree({0, 2})).ok());
  p.on_frame(0, to_switch(0, contribution(0, 0, 5)), 0);  // accepted: not a drop
  EXPECT_TRUE(p.recent_engine_drops().empty());
  p.on_frame(1, to_switch(1, contribution(0, 9, 100, kKey, kTree + 1)), 0);
  p.on_frame(1, to_switch(1, contribution(0, 0, 100, kKey + 1)), 0);
  auto drops = p.recent_engine_drops();
  ASSERT_EQ(drops.size(), 2u);
  EXPECT_EQ(drops[0].reason, "drop_unknown_tree");
  EXPECT_EQ(drops[0].port, 1u);
  EXPECT_EQ(drops[0].src_ip, host(1).ipv4);
  EXPECT_EQ(drops[0].src_port, host(1).port);
  EXPECT_EQ(drops[0].header.tree, kTree + 1);
  EXPECT_EQ(drops[0].header.sequence, 9u);
  EXPECT_EQ(drops[1].reason, "drop_bad_key");
  EXPECT_EQ(format_engine_drop(drops[0]),
            "port1 10.77.0.2:40001 contribution job 5 key 0xabcd tree 4 child 0 seq 9: "
            "drop_unknown_tree");
  // Past kRecentDrops the oldest go first.
  for (std::uint32_t i = 0; i < SwitchPipeline::kRecentDrops; ++i)
    p.on_frame(1, to_switch(1, contribution(1, 100 + i, 1)), 0);  // child 1 lives on port 2
  drops = p.recent_engine_drops();
  ASSERT_EQ(drops.size(), SwitchPipeline::kRecentDrops);
  for (std::uint32_t i = 0; i < SwitchPipeline::kRecentDrops; ++i) {
    EXPECT_EQ(drops[i].reason, "drop_bad_child");
    EXPECT_EQ(drops[i].header.sequence, 100 + i);
  }
  // A packet the engine takes after drops is not one.
  ASSERT_EQ(p.on_frame(2, to_switch(2, contribution(1, 0, 7)), 0).transmit.size(), 2u);
  EXPECT_EQ(p.recent_engine_drops().back().header.sequence, 100 + SwitchPipeline::kRecentDrops - 1);
}

TEST(SwitchPipeline, CountsMalformedFramesByReason) {
  SwitchPipeline p = make_pipeline(2);
  ASSERT_TRUE(control(p, star_tree({0, 1})).ok());
  const Bytes good = to_switch(0, contribution(0, 0, 1));
  auto at = [&](Bytes b, std::size_t off, std::uint8_t v) {
    b[off] = static_cast<std::byte>(v);
    return b;
  };
  p.on_frame(0, Bytes(10), 0);                               // runt
  p.on_frame(0, at(good, 14, 0x43), 0);                      // IHL 3
  p.on_frame(0, Bytes(good.begin(), good.begin() + 40), 0);  // IPv4 total length > frame
  p.on_frame(0, at(good, 20, 0x20), 0);                      // more fragments
  p.on_frame(0, at(at(good, 38, 0x00), 39, 0x10), 0);        // UDP length 16 < payload
  p.on_frame(0, at(good, 22, 0x00), 0);                      // TTL 0: checksum breaks
  p.on_frame(0, at(good, kUdpFrameHeadBytes, 2), 0);         // inca version 2
  p.on_frame(0, at(good, good.size() - 1, 0x55), 0);         // payload byte: bad CRC
  Bytes cut = Bytes(good.begin(), good.end() - 4);           // consistent lengths, short inca
  cut[16] = static_cast<std::byte>((cut.size() - 14) >> 8);
  cut[17] = static_cast<std::byte>(cut.size() - 14);
  cut[24] = cut[25] = std::byte{0};
  const std::uint16_t ip_sum = internet_checksum(std::span(cut).subspan(14, 20));
  cut[24] = static_cast<std::byte>(ip_sum >> 8);
  cut[25] = static_cast<std::byte>(ip_sum & 0xff);
  cut[38] = static_cast<std::byte>((cut.size() - 34) >> 8);
  cut[39] = static_cast<std::byte>(cut.size() - 34);
  p.on_frame(0, cut, 0);
  const PortCounters& c = p.port_counters(0);
  EXPECT_EQ(c.dropped(DropReason::runt_frame), 1u);
  EXPECT_EQ(c.dropped(DropReason::bad_ipv4), 2u);
  EXPECT_EQ(c.dropped(DropReason::ip_fragment), 1u);
  EXPECT_EQ(c.dropped(DropReason::bad_udp_length), 1u);
  EXPECT_EQ(c.dropped(DropReason::bad_ip_checksum), 1u);
  EXPECT_EQ(c.decode_drops[static_cast<std::size_t>(wire::DecodeError::bad_version)], 1u);
  EXPECT_EQ(c.decode_drops[static_cast<std::size_t>(wire::DecodeError::bad_checksum)], 1u);
  EXPECT_EQ(c.decode_drops[static_cast<std::size_t>(wire::DecodeError::truncated)], 1u);
  EXPECT_EQ(c.rx_packets, 9u);
  EXPECT_EQ(c.inca_rx, 0u);
  EXPECT_EQ(p.engine().counters().contributions, 0u);
}

TEST(SwitchPipeline, SendsPartialsToTheConfiguredParent) {
  SwitchPipeline p = make_pipeline(3);
  wire::TreeInstall leaf = star_tree({0, 1});
  leaf.parent_port = 2;
  leaf.index_at_parent = 4;
  ASSERT_TRUE(control(p, leaf).ok());
  p.on_frame(0, to_switch(0, contribution(0, 0, 1)), 0);
  auto v = p.on_frame(1, to_switch(1, contribution(1, 0, 2)), 0);
  EXPECT_TRUE(v.transmit.empty());
  EXPECT_EQ(p.port_counters(2).dropped(DropReason::no_neighbor), 1u);

  const wire::NeighborAddress spine{2, {0x02, 0x99, 0, 0, 0, 1}, 0x0a4d00fd, 4792};
  ASSERT_TRUE(control(p, spine).ok());
  EXPECT_EQ(control(p, wire::NeighborAddress{7, {}, 0, 1}).code(), StatusCode::invalid_argument);
  // Chunk 1 completes: its partial goes up to the spine's address.
  p.on_frame(0, to_switch(0, contribution(0, 1, 1)), 0);
  v = p.on_frame(1, to_switch(1, contribution(1, 1, 2)), 0);
  ASSERT_EQ(v.transmit.size(), 1u);
  EXPECT_EQ(v.transmit[0].port, 2);
  const Bytes bytes = concat(v.transmit[0]);
  ParsedFrame f;
  ASSERT_EQ(parse_frame(bytes, f), FrameError::none);
  EXPECT_EQ(f.dst_mac, spine.mac);
  EXPECT_EQ(f.dst_ip, spine.ipv4);
  EXPECT_EQ(f.dst_port, spine.udp_port);
  wire::Header hdr;
  std::span<const std::byte> payload;
  ASSERT_EQ(wire::decode(f.udp_payload, hdr, payload), wire::DecodeError::none);
  EXPECT_EQ(hdr.type, wire::PacketType::contribution);
  EXPECT_EQ(hdr.child, 4);
}

TEST(SwitchPipeline, ControlValidatesPortsAndReportsState) {
  SwitchPipeline p = make_pipeline(2);
  EXPECT_EQ(control(p, star_tree({0, 5})).code(), StatusCode::invalid_argument);
  wire::TreeInstall bad_parent = star_tree({0, 1});
  bad_parent.parent_port = 9;
  EXPECT_EQ(control(p, bad_parent).code(), StatusCode::invalid_argument);
  wire::TreeInstall too_big = star_tree({0, 1});
  too_big.slot_count = 65;
  EXPECT_EQ(control(p, too_big).code(), StatusCode::no_resource);
  ASSERT_TRUE(control(p, star_tree({0, 1})).ok());
  auto ping = p.on_control({9, wire::PingRequest{}});
  ASSERT_TRUE(ping.status.ok());
  const auto& info = std::get<wire::SwitchInfo>(ping.body);
  EXPECT_EQ(info.trees, 1u);
  EXPECT_EQ(info.free_slots, 60u);
  EXPECT_EQ(info.ports.size(), 2u);
  EXPECT_EQ(info.ports[1].mac, port_mac(1));
  EXPECT_TRUE(control(p, wire::TreeRemove{kJob, kTree}).ok());
  EXPECT_EQ(control(p, wire::TreeRemove{kJob, kTree}).code(), StatusCode::not_supported);
  auto counters = p.on_control({10, wire::CountersRequest{}});
  const auto& list = std::get<std::vector<wire::Counter>>(counters.body);
  auto value = [&](const std::string& name) -> std::optional<std::uint64_t> {
    for (const auto& c : list)
      if (c.name == name) return c.value;
    return std::nullopt;
  };
  EXPECT_EQ(value("switch.trees"), 0u);
  EXPECT_EQ(value("control.errors"), 4u);
  EXPECT_TRUE(value("port1.drop_rate_limit").has_value());
  EXPECT_TRUE(value("port0.decode_bad_checksum").has_value());
  EXPECT_TRUE(value("engine.drop_bad_key").has_value());
  EXPECT_NE(format_counters(list).find("control: requests=8 errors=4"), std::string::npos)
      << format_counters(list);
}

}  // namespace
}  // namespace inca::dpdk_switch
