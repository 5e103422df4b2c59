// inca-switch's RoCEv2 queue pairs, driven through SwitchPipeline without
// DPDK: hosts on RoCEv2 and on inca-over-UDP in one tree, results as RDMA
// WRITEs with immediate (PSNs in order, ring entries, ICRC), every drop
// reason counted with nothing aggregated, and connect_qp's refusals.
#include "dpdk/roce_endpoint.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "dpdk/emulated_hosts.hpp"
#include "dpdk/roce_host.hpp"
#include "dpdk/switch_pipeline.hpp"
#include "manager/switch_control_client.hpp"
#include "support/roce_frames.hpp"
#include "wire/roce_mapping.hpp"

namespace inca::dpdk_switch {
namespace {

using Bytes = std::vector<std::byte>;

constexpr std::uint32_t kSwitchIp = 0x0a5a00fe;  // 10.90.0.254
constexpr std::uint32_t kJob = 5;
constexpr std::uint32_t kKey = 0xabcd;
constexpr std::uint16_t kTree = 3;
constexpr std::uint32_t kWindow = 4;
constexpr std::uint32_t kElements = 4;
constexpr std::uint32_t kRingEntries = 8;
constexpr std::uint32_t kEntryBytes = wire::kHeaderBytes + 256;

MacAddress port_mac(int i) {
  return emulated_port_mac(static_cast<std::uint32_t>(i));
}
UdpEndpoint host(int i) {
  return emulated_host(0x0a5a00, static_cast<std::uint32_t>(i));
}

SwitchPipeline make_pipeline(std::uint32_t max_qps = 16) {
  PipelineConfig cfg;
  cfg.name = "sw";
  cfg.ipv4 = kSwitchIp;
  cfg.engine.slots = 64;
  cfg.engine.slot_payload_bytes = 256;
  cfg.roce.max_qps = max_qps;
  cfg.roce.psn_seed = 7;
  std::vector<PortIdentity> ids;
  for (int i = 0; i < 3; ++i) ids.push_back({"port" + std::to_string(i), port_mac(i)});
  return SwitchPipeline(cfg, ids);
}

RoceHostConfig host_config(int i, std::uint16_t port = wire::kNoPort) {
  RoceHostConfig c;
  c.job = kJob;
  c.self = host(i);
  c.switch_port = {port_mac(i), kSwitchIp, kRoceUdpPort};
  c.port = port;
  c.qpn = 0x1000u + static_cast<std::uint32_t>(i);
  c.psn = 100u * static_cast<std::uint32_t>(i) + 5;
  c.mtu = 1024;
  c.ring_va = 0x10000ull * static_cast<std::uint64_t>(i + 1);
  c.ring_rkey = 0x77u + static_cast<std::uint32_t>(i);
  c.ring_entries = kRingEntries;
  c.ring_entry_bytes = kEntryBytes;
  return c;
}

wire::QpConnect qp_of(int i, std::uint16_t port = wire::kNoPort) {
  return RoceHost(host_config(i, port)).connect_request();
}

wire::Header contribution_header(std::uint16_t child, std::uint32_t seq) {
  wire::Header h;
  h.type = wire::PacketType::contribution;
  h.dtype = Dtype::i32;
  h.child = child;
  h.job = kJob;
  h.key_tag = kKey;
  h.tree = kTree;
  h.slot = static_cast<std::uint16_t>(seq % kWindow);
  h.shadow = ((seq / kWindow) & 1) != 0;
  h.sequence = seq;
  h.count = kElements;
  return h;
}

Bytes contribution(std::uint16_t child, std::uint32_t seq, std::int32_t value) {
  std::int32_t v[kElements];
  for (auto& x : v) x = value;
  Bytes out(wire::kHeaderBytes + sizeof(v));
  EXPECT_GT(wire::encode(contribution_header(child, seq), std::as_bytes(std::span(v)), out), 0u);
  return out;
}

// A host on RoCEv2: its NIC and the switch's queue pair for it.
struct TestHost {
  int index = 0;
  RoceHost nic;
  wire::QpInfo sw;

  const wire::QpConnect qp() const { return nic.connect_request(); }
  RoceHeaders headers(std::uint32_t seq, std::size_t bytes) {
    return nic.contribution_headers(contribution_header(static_cast<std::uint16_t>(index), seq),
                                    bytes);
  }
  Bytes frame(std::uint32_t seq, std::int32_t value) {
    return nic.contribution_frame(contribution(static_cast<std::uint16_t>(index), seq, value));
  }
  /// Takes back `n` PSNs (negative: skips them).
  void back(int n) { nic.set_next_psn(nic.next_psn() - static_cast<std::uint32_t>(n)); }
};

TestHost connect(SwitchPipeline& p, int index, RoceHostConfig config) {
  TestHost h{index, RoceHost(config), {}};
  const auto reply = p.on_control({1, h.nic.connect_request()});
  EXPECT_TRUE(reply.status.ok()) << reply.status.to_string();
  if (reply.status.ok()) {
    h.sw = std::get<wire::QpInfo>(reply.body);
    h.nic.connected(h.sw);
  }
  return h;
}

class RoceSwitch : public ::testing::Test {
 protected:
  void SetUp() override {
    wire::TreeInstall t;
    t.job = kJob;
    t.key_tag = kKey;
    t.tree = kTree;
    t.slot_count = kWindow;
    t.slot_payload_bytes = 256;
    t.child_ports = {0, 1, 2};
    ASSERT_TRUE(control(t).ok());
    for (int i = 0; i < 2; ++i) hosts_.push_back(connect(p_, i, host_config(i)));
  }

  Status control(wire::ControlRequestBody body) {
    return p_.on_control({1, std::move(body)}).status;
  }

  FrameVerdict udp_contribution(std::uint32_t seq, std::int32_t value) {
    UdpEndpoint h = host(2);
    h.port = 40002;
    const Bytes inca = contribution(2, seq, value);
    Bytes f(kUdpFrameHeadBytes + inca.size());
    write_udp_head(f, h, {port_mac(2), kSwitchIp, wire::kDefaultUdpPort}, inca.size());
    std::memcpy(f.data() + kUdpFrameHeadBytes, inca.data(), inca.size());
    return p_.on_frame(2, f, 0);
  }

  std::uint64_t engine_packets() const { return p_.engine().counters().packets_in; }

  SwitchPipeline p_ = make_pipeline();
  std::vector<TestHost> hosts_;
};

Bytes concat(const TxFrame& f) {
  Bytes b(f.head.begin(), f.head.end());
  b.insert(b.end(), f.body.begin(), f.body.end());
  b.insert(b.end(), f.tail.begin(), f.tail.end());
  return b;
}

void expect_result(std::span<const std::byte> inca, std::uint32_t seq, std::int32_t sum) {
  wire::Header h;
  std::span<const std::byte> payload;
  ASSERT_EQ(wire::decode(inca, h, payload), wire::DecodeError::none);
  EXPECT_EQ(h.type, wire::PacketType::result);
  EXPECT_EQ(h.sequence, seq);
  ASSERT_EQ(payload.size(), kElements * 4);
  for (std::uint32_t e = 0; e < kElements; ++e) {
    std::int32_t v;
    std::memcpy(&v, payload.data() + 4 * e, 4);
    EXPECT_EQ(v, sum) << "chunk " << seq << " element " << e;
  }
}

TEST_F(RoceSwitch, RoceAndUdpHostsAggregateExactlyWithResultsAsRdmaWrites) {
  const std::uint32_t chunks = 2 * kRingEntries + 3;  // wraps the rings and flips shadow sets
  std::vector<std::uint32_t> results_seen(2, 0);
  for (std::uint32_t seq = 0; seq < chunks; ++seq) {
    const auto v0 = p_.on_frame(0, hosts_[0].frame(seq, 1 + static_cast<std::int32_t>(seq)), 0);
    ASSERT_TRUE(v0.transmit.empty());
    const auto v1 = p_.on_frame(1, hosts_[1].frame(seq, 10), 0);
    ASSERT_TRUE(v1.transmit.empty());
    const auto v = udp_contribution(seq, 100);
    ASSERT_EQ(v.transmit.size(), 3u) << "chunk " << seq;
    const std::int32_t sum = 1 + static_cast<std::int32_t>(seq) + 10 + 100;
    for (const TxFrame& tx : v.transmit) {
      const Bytes bytes = concat(tx);
      ParsedFrame f;
      ASSERT_EQ(parse_frame(bytes, f), FrameError::none);
      if (tx.port == 2) {
        EXPECT_EQ(f.dst_port, 40002);
        expect_result(f.udp_payload, seq, sum);
        continue;
      }
      TestHost& h = hosts_[tx.port];
      std::span<const std::byte> taken;
      EXPECT_EQ(h.nic.take_result(bytes, taken), RoceResultError::none);
      ASSERT_EQ(f.dst_port, kRoceUdpPort);
      EXPECT_EQ(f.dst_ip, h.qp().ipv4);
      EXPECT_EQ(f.dst_mac, h.qp().mac);
      EXPECT_EQ(f.src_ip, kSwitchIp);
      EXPECT_EQ(f.src_mac, port_mac(tx.port));
      EXPECT_EQ(check_inca_datagram(f, true), DatagramError::none);
      RocePacket r;
      ASSERT_EQ(parse_roce(f, r), RoceError::none);  // the ICRC included
      const std::uint32_t k = results_seen[tx.port]++;
      EXPECT_EQ(r.opcode, roce_opcode::kUcRdmaWriteOnlyImm);
      EXPECT_EQ(r.dest_qp, h.qp().qpn);
      EXPECT_EQ(r.psn, (h.sw.psn + k) & kPsnMask);
      ASSERT_TRUE(r.reth && r.immediate);
      EXPECT_EQ(*r.immediate, k);
      EXPECT_EQ(r.reth->va, h.qp().ring_va + std::uint64_t{k % kRingEntries} * kEntryBytes);
      EXPECT_EQ(r.reth->rkey, h.qp().ring_rkey);
      EXPECT_EQ(r.reth->dma_length, r.payload.size());
      expect_result(r.payload, seq, sum);
    }
  }
  EXPECT_EQ(p_.port_counters(0).roce_rx, chunks);
  EXPECT_EQ(p_.port_counters(1).roce_tx, chunks);
  EXPECT_EQ(p_.engine().counters().results, chunks);
  const auto* qp = p_.roce().find(hosts_[0].sw.qpn);
  ASSERT_NE(qp, nullptr);
  EXPECT_EQ(qp->rx_packets, chunks);
  EXPECT_EQ(qp->port, 0);  // learned from its first packet
}

TEST_F(RoceSwitch, EveryRoceDropIsCountedAndAggregatesNothing) {
  TestHost& h = hosts_[0];
  const Bytes inca = contribution(0, 0, 1);
  auto expect_drop = [&](Bytes frame, DropReason reason, int port = 0) {
    const std::uint64_t before = engine_packets();
    const std::uint64_t dropped =
        p_.port_counters(static_cast<std::uint16_t>(port)).dropped(reason);
    const auto v = p_.on_frame(static_cast<std::uint16_t>(port), frame, 0);
    EXPECT_TRUE(v.transmit.empty() && v.forward.empty()) << to_string(reason);
    EXPECT_EQ(p_.port_counters(static_cast<std::uint16_t>(port)).dropped(reason), dropped + 1)
        << to_string(reason);
    EXPECT_EQ(engine_packets(), before) << to_string(reason);
  };
  auto rebuilt = [&](auto&& change) {
    RoceHeaders hd = h.headers(0, inca.size());
    change(hd);
    return test::roce_frame(hd, inca);
  };

  Bytes runt = h.frame(0, 1);
  runt.resize(kUdpFrameHeadBytes + kBthBytes);
  test::fix_lengths(runt);
  expect_drop(runt, DropReason::roce_truncated);
  h.back(1);
  Bytes corrupt = h.frame(0, 1);
  corrupt[kRoceWriteImmHeadBytes + 40] ^= std::byte{0x10};
  expect_drop(corrupt, DropReason::roce_bad_icrc);
  h.back(1);
  Bytes version = h.frame(0, 1);
  version[kUdpFrameHeadBytes + 1] |= std::byte{0x02};
  test::refresh_icrc(version);
  expect_drop(version, DropReason::roce_bad_version);
  h.back(1);
  Bytes rd = h.frame(0, 1);
  rd[kUdpFrameHeadBytes] = std::byte{0x4b};
  test::refresh_icrc(rd);
  expect_drop(rd, DropReason::roce_unknown_opcode);
  h.back(1);
  Bytes pad = test::roce_frame(test::send_only_headers(h.sw.qpn, h.nic.next_psn()), {});
  pad[kUdpFrameHeadBytes + 1] |= std::byte{0x30};  // 3 pad bytes, no payload
  test::refresh_icrc(pad);
  expect_drop(pad, DropReason::roce_bad_pad);
  expect_drop(rebuilt([](RoceHeaders& hd) { hd.dest_qp = 0x999; }), DropReason::roce_unknown_qpn);
  h.back(1);
  // Host 1's address on host 0's queue pair, and host 0 on the wrong port
  // once its port is known.
  expect_drop(rebuilt([](RoceHeaders& hd) { hd.src = host(1); }), DropReason::roce_wrong_peer);
  h.back(1);
  expect_drop(rebuilt([](RoceHeaders& hd) { hd.pkey = 0x1234; }), DropReason::roce_bad_pkey);
  h.back(1);
  // Nothing so far consumed a PSN: the next in order is still accepted.
  ASSERT_TRUE(p_.on_frame(0, h.frame(0, 1), 0).transmit.empty());
  EXPECT_EQ(p_.port_counters(0).roce_rx, 1u);
  expect_drop(h.frame(1, 1), DropReason::roce_wrong_peer, 1);
  // A stale PSN (a duplicate), then a skipped one: dropped; the queue pair
  // resynchronises on the skipped one, so the next in order is taken.
  h.back(2);
  expect_drop(h.frame(1, 1), DropReason::roce_psn_stale);
  h.back(-2);
  expect_drop(h.frame(1, 1), DropReason::roce_psn_gap);
  expect_drop(rebuilt([](RoceHeaders& hd) {
                hd.opcode = roce_opcode::kUcSendOnly;
                hd.reth.reset();
                hd.immediate.reset();
              }),
              DropReason::roce_unsupported_opcode);
  expect_drop(rebuilt([](RoceHeaders& hd) { hd.reth->va = 64; }), DropReason::roce_bad_reth);
  expect_drop(rebuilt([](RoceHeaders& hd) { hd.reth->dma_length = 8; }), DropReason::roce_bad_reth);
  expect_drop(rebuilt([](RoceHeaders& hd) { *hd.immediate = 9; }),
              DropReason::roce_mapping_mismatch);
  expect_drop(rebuilt([](RoceHeaders& hd) { hd.reth->rkey = wire::slot_rkey(kTree, false, 2); }),
              DropReason::roce_mapping_mismatch);
  expect_drop(
      rebuilt([](RoceHeaders& hd) { hd.reth->rkey = wire::slot_rkey(kTree + 1, false, 0); }),
      DropReason::roce_mapping_mismatch);
  // A RoCEv2 packet whose inca packet is corrupt: its own checksum catches it.
  Bytes bad_inca = inca;
  bad_inca[wire::kHeaderBytes] ^= std::byte{1};
  const std::uint64_t before = engine_packets();
  p_.on_frame(0, test::roce_frame(h.headers(0, bad_inca.size()), bad_inca), 0);
  EXPECT_EQ(
      p_.port_counters(0).decode_drops[static_cast<std::size_t>(wire::DecodeError::bad_checksum)],
      1u);
  EXPECT_EQ(engine_packets(), before);
  // A congestion notification is counted, not dropped.
  RoceHeaders cnp = test::roce_headers(roce_opcode::kCnp, h.sw.qpn, 0);
  cnp.src = host(0);
  cnp.dst = {port_mac(0), kSwitchIp, kRoceUdpPort};
  cnp.becn = true;
  p_.on_frame(0, test::roce_frame(cnp, Bytes(16)), 0);
  EXPECT_EQ(p_.port_counters(0).roce_cnp, 1u);
  EXPECT_EQ(p_.port_counters(0).roce_rx, 1u);
  EXPECT_EQ(engine_packets(), before);
}

TEST_F(RoceSwitch, OverMtuContributionsAndResultsWithoutRoomAreDropped) {
  RoceHostConfig small = host_config(2, 2);
  small.mtu = 256;  // an inca header and 256 bytes do not fit
  small.ring_entry_bytes = wire::kHeaderBytes + 8;
  TestHost h = connect(p_, 2, small);
  wire::Header big;
  big.type = wire::PacketType::contribution;
  big.dtype = Dtype::u8;
  big.job = kJob;
  big.key_tag = kKey;
  big.tree = kTree;
  big.child = 2;
  big.count = 256;
  Bytes inca(wire::kHeaderBytes + 256);
  ASSERT_GT(wire::encode(big, Bytes(256), inca), 0u);
  p_.on_frame(2, test::roce_frame(h.headers(0, inca.size()), inca), 0);
  EXPECT_EQ(p_.port_counters(2).dropped(DropReason::roce_over_mtu), 1u);
  // Within the MTU, but its result (4 i32) does not fit a 40-byte entry.
  p_.on_frame(0, hosts_[0].frame(0, 1), 0);
  p_.on_frame(1, hosts_[1].frame(0, 1), 0);
  const auto v = p_.on_frame(2, h.frame(0, 1), 0);
  EXPECT_EQ(v.transmit.size(), 2u);
  EXPECT_EQ(p_.port_counters(2).dropped(DropReason::roce_no_result_room), 1u);
}

TEST_F(RoceSwitch, RoceBetweenHostsIsSwitchedNotTaken) {
  RoceHeaders hd = hosts_[0].headers(0, 8);
  hd.dst = host(1);
  const auto v = p_.on_frame(0, test::roce_frame(hd, Bytes(8)), 0);
  EXPECT_EQ(v.forward.size(), 2u);  // flooded: host 1's MAC is unknown yet
  EXPECT_EQ(p_.port_counters(0).roce_rx, 0u);
  EXPECT_EQ(p_.port_counters(0).l2_flooded, 1u);
}

TEST(RoceSwitchControl, ConnectValidatesAndDisconnectForgets) {
  SwitchPipeline p = make_pipeline(2);
  auto connect = [&](const wire::QpConnect& q) { return p.on_control({1, q}); };
  auto refused = [&](auto&& change, StatusCode code) {
    wire::QpConnect q = qp_of(0);
    change(q);
    const auto r = connect(q);
    EXPECT_EQ(r.status.code(), code) << r.status.to_string();
  };
  refused([](auto& q) { q.qpn = 0x1000000; }, StatusCode::invalid_argument);
  refused([](auto& q) { q.qpn = 1; }, StatusCode::invalid_argument);
  refused([](auto& q) { q.psn = 0x1000000; }, StatusCode::invalid_argument);
  refused([](auto& q) { q.mtu = 1500; }, StatusCode::invalid_argument);
  refused([](auto& q) { q.port = 3; }, StatusCode::invalid_argument);
  refused([](auto& q) { q.mac[0] = 0x01; }, StatusCode::invalid_argument);
  refused([](auto& q) { q.ipv4 = 0; }, StatusCode::invalid_argument);
  refused([](auto& q) { q.ring_entries = 0; }, StatusCode::invalid_argument);
  refused([](auto& q) { q.ring_entry_bytes = 16; }, StatusCode::invalid_argument);
  refused([](auto& q) { q.ring_va = ~0ull - 10; }, StatusCode::invalid_argument);

  const auto first = connect(qp_of(0));
  ASSERT_TRUE(first.status.ok());
  EXPECT_EQ(std::get<wire::QpInfo>(first.body).qpn, 0x100u);
  EXPECT_EQ(connect(qp_of(0)).status.code(), StatusCode::invalid_argument);  // twice
  const auto second = connect(qp_of(1));
  ASSERT_TRUE(second.status.ok());
  EXPECT_EQ(std::get<wire::QpInfo>(second.body).qpn, 0x101u);
  EXPECT_EQ(connect(qp_of(2)).status.code(), StatusCode::no_resource);
  EXPECT_EQ(p.on_control({1, wire::QpDisconnect{0x555}}).status.code(), StatusCode::not_supported);
  ASSERT_TRUE(p.on_control({1, wire::QpDisconnect{0x100}}).status.ok());
  EXPECT_EQ(p.roce().find(0x100), nullptr);
  EXPECT_TRUE(connect(qp_of(2)).status.ok());  // its place is free again

  const auto counters = p.counters();
  EXPECT_EQ(manager::find_counter(counters, "roce.connected_qps"), 2u);
  EXPECT_EQ(manager::find_counter(counters, "qp257.host_qpn"), 0x1001u);
}

}  // namespace
}  // namespace inca::dpdk_switch
