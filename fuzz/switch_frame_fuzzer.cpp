// Arbitrary frames into inca-switch's frame pipeline (SwitchPipeline, no
// DPDK) with a tree over three ports, two RoCEv2 queue pairs and a learned
// UDP child. Each frame is raw bytes, or a valid inca-over-UDP or RoCEv2
// contribution that the input then changes byte by byte, cuts or extends,
// optionally repairing the lengths, the IPv4 checksum, the inca checksum or
// the ICRC so that the checks behind them are reached too. After every frame:
// - a frame that reached the engine passes, checked again independently,
//   every validation on its path: Ethernet/IPv4/UDP, the inca decode and, for
//   RoCEv2, the ICRC, a connected queue pair and the one opcode taken;
// - every frame the switch sends parses: inca results decode, RoCEv2 results
//   carry a correct ICRC, the opcode the hosts expect, a connected host's QPN
//   and a RETH inside its result ring;
// - every packet the engine saw is counted in exactly one bucket.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dpdk/emulated_hosts.hpp"
#include "dpdk/roce_frame.hpp"
#include "dpdk/roce_host.hpp"
#include "dpdk/switch_pipeline.hpp"
#include "fuzz_check.hpp"
#include "wire/roce_mapping.hpp"

using namespace inca;
using namespace inca::dpdk_switch;

namespace {

constexpr std::uint32_t kSwitchIp = 0x0a5b00fe;
constexpr std::uint32_t kJob = 3;
constexpr std::uint32_t kKey = 0x5eed;
constexpr std::uint16_t kTree = 7;
constexpr std::uint16_t kWindow = 4;
constexpr std::uint32_t kRingEntries = 4;
constexpr std::uint32_t kEntryBytes = 128;
constexpr std::uint16_t kPorts = 3;

MacAddress port_mac(int i) {
  return emulated_port_mac(static_cast<std::uint32_t>(i));
}
UdpEndpoint host(int i) {
  return emulated_host(0x0a5b00, static_cast<std::uint32_t>(i));
}

RoceHostConfig host_config(int i) {
  RoceHostConfig c;
  c.job = kJob;
  c.self = host(i);
  c.switch_port = {port_mac(i), kSwitchIp, kRoceUdpPort};
  c.port = i == 0 ? wire::kNoPort : static_cast<std::uint16_t>(i);
  c.qpn = 0x40u + static_cast<std::uint32_t>(i);
  c.psn = 0xfffff0;
  c.mtu = 256;
  c.ring_va = 0x1000ull * static_cast<std::uint64_t>(i + 1);
  c.ring_rkey = 9;
  c.ring_entries = kRingEntries;
  c.ring_entry_bytes = kEntryBytes;
  return c;
}

struct Switch {
  SwitchPipeline pipeline;
  std::vector<RoceHost> hosts;
};

Switch make_switch() {
  PipelineConfig cfg;
  cfg.ipv4 = kSwitchIp;
  cfg.engine.slots = 32;
  cfg.engine.slot_payload_bytes = 64;
  cfg.roce.max_qps = 4;
  std::vector<PortIdentity> ids;
  for (int i = 0; i < kPorts; ++i) ids.push_back({"p", port_mac(i)});
  Switch s{SwitchPipeline(cfg, ids), {}};
  wire::TreeInstall t;
  t.job = kJob;
  t.key_tag = kKey;
  t.tree = kTree;
  t.slot_count = kWindow;
  t.slot_payload_bytes = 64;
  t.child_ports = {0, 1, 2};
  FUZZ_CHECK(s.pipeline.on_control({1, t}).status.ok());
  for (int i = 0; i < 2; ++i) {
    s.hosts.emplace_back(host_config(i));
    const auto reply = s.pipeline.on_control({2, s.hosts.back().connect_request()});
    FUZZ_CHECK(reply.status.ok());
    s.hosts.back().connected(std::get<wire::QpInfo>(reply.body));
  }
  return s;
}

std::vector<std::byte> inca_contribution(FuzzReader& in, std::uint16_t child) {
  wire::Header h;
  h.type = wire::PacketType::contribution;
  h.dtype = Dtype::i32;
  h.job = kJob;
  h.key_tag = kKey;
  h.tree = kTree;
  h.child = child;
  h.sequence = in.byte() % 16;
  h.slot = static_cast<std::uint16_t>(h.sequence % kWindow);
  h.shadow = ((h.sequence / kWindow) & 1) != 0;
  h.count = 1 + in.byte() % 16;
  std::vector<std::byte> payload(h.count * 4, static_cast<std::byte>(in.byte()));
  std::vector<std::byte> out(wire::kHeaderBytes + payload.size());
  wire::encode(h, payload, out);
  return out;
}

std::vector<std::byte> udp_template(FuzzReader& in) {
  const std::vector<std::byte> inca = inca_contribution(in, 2);
  std::vector<std::byte> f(kUdpFrameHeadBytes + inca.size());
  write_udp_head(f, host(2), {port_mac(2), kSwitchIp, wire::kDefaultUdpPort}, inca.size());
  std::memcpy(f.data() + kUdpFrameHeadBytes, inca.data(), inca.size());
  return f;
}

std::vector<std::byte> roce_template(FuzzReader& in, Switch& s) {
  const int h = in.byte() & 1;
  return s.hosts[static_cast<std::size_t>(h)].contribution_frame(
      inca_contribution(in, static_cast<std::uint16_t>(h)));
}

void put16(std::vector<std::byte>& f, std::size_t at, std::size_t v) {
  f[at] = static_cast<std::byte>(v >> 8);
  f[at + 1] = static_cast<std::byte>(v);
}

// The repairs a mode byte asks for, each only where the frame has the bytes.
void repair(std::vector<std::byte>& f, std::uint8_t mode) {
  constexpr std::size_t ip = kEthernetHeaderBytes;
  if (f.size() < kUdpFrameHeadBytes) return;
  if (mode & 0x10) {
    put16(f, ip + 2, f.size() - ip);
    put16(f, ip + kIpv4HeaderBytes + 4, f.size() - ip - kIpv4HeaderBytes);
  }
  const bool roce = std::to_integer<int>(f[ip + kIpv4HeaderBytes + 2]) == (kRoceUdpPort >> 8) &&
                    std::to_integer<int>(f[ip + kIpv4HeaderBytes + 3]) == (kRoceUdpPort & 0xff);
  const std::size_t inca_at = roce ? kRoceWriteImmHeadBytes : kUdpFrameHeadBytes;
  const std::size_t tail = roce ? kIcrcBytes : 0;
  if ((mode & 0x20) && f.size() >= inca_at + wire::kHeaderBytes + tail) {
    const auto packet = std::span(f).subspan(inca_at, f.size() - inca_at - tail);
    const std::uint32_t sum =
        wire::checksum(packet.first(wire::kHeaderBytes), packet.subspan(wire::kHeaderBytes));
    for (int i = 0; i < 4; ++i) packet[28 + i] = static_cast<std::byte>(sum >> (24 - 8 * i));
  }
  if (mode & 0x40) {
    put16(f, ip + 10, 0);
    put16(f, ip + 10, internet_checksum(std::span(f).subspan(ip, kIpv4HeaderBytes)));
  }
  if ((mode & 0x80) && roce && f.size() >= kUdpFrameHeadBytes + kBthBytes + kIcrcBytes) {
    const std::uint32_t crc =
        roce_icrc(std::span<const std::byte>(f).subspan(ip, f.size() - ip - kIcrcBytes));
    for (std::size_t i = 0; i < kIcrcBytes; ++i)
      f[f.size() - kIcrcBytes + i] = static_cast<std::byte>(crc >> (8 * i));
  }
}

std::vector<std::byte> next_frame(FuzzReader& in, Switch& s, std::uint8_t mode) {
  std::vector<std::byte> f;
  switch (mode & 3) {
    case 0: {
      const std::size_t n = in.byte() | (std::size_t{in.byte()} << 3);
      for (std::size_t i = 0; i < n && !in.empty(); ++i) f.push_back(std::byte{in.byte()});
      return f;
    }
    case 1:
      f = udp_template(in);
      break;
    default:
      f = roce_template(in, s);
      break;
  }
  const int changes = in.byte() % 8;
  for (int i = 0; i < changes; ++i) {
    const std::size_t at = (in.byte() | (std::size_t{in.byte()} << 8)) % f.size();
    f[at] ^= std::byte{in.byte()};
  }
  if (mode & 0x08) f.resize((in.byte() | (std::size_t{in.byte()} << 8)) % (f.size() + 64));
  repair(f, mode);
  return f;
}

// A frame the engine took must pass every check on its path again.
void check_admitted(std::span<const std::byte> frame, const Switch& s) {
  ParsedFrame f;
  FUZZ_CHECK(parse_frame(frame, f) == FrameError::none && f.kind == FrameKind::udp);
  FUZZ_CHECK(check_inca_datagram(f, true) == DatagramError::none);
  wire::Header h;
  std::span<const std::byte> payload;
  if (f.dst_port == wire::kDefaultUdpPort) {
    FUZZ_CHECK(wire::decode(f.udp_payload, h, payload) == wire::DecodeError::none);
    return;
  }
  FUZZ_CHECK(f.dst_port == kRoceUdpPort && f.dst_ip == kSwitchIp);
  RocePacket p;
  FUZZ_CHECK(parse_roce(f, p) == RoceError::none);
  FUZZ_CHECK(p.opcode == roce_opcode::kUcRdmaWriteOnlyImm);
  FUZZ_CHECK(p.dest_qp == s.hosts[0].switch_qpn() || p.dest_qp == s.hosts[1].switch_qpn());
  FUZZ_CHECK(wire::decode(p.payload, h, payload) == wire::DecodeError::none);
  FUZZ_CHECK(h.type == wire::PacketType::contribution && h.sequence == *p.immediate);
}

void check_sent(const TxFrame& tx) {
  std::vector<std::byte> frame(tx.head.begin(), tx.head.end());
  frame.insert(frame.end(), tx.body.begin(), tx.body.end());
  frame.insert(frame.end(), tx.tail.begin(), tx.tail.end());
  FUZZ_CHECK(tx.port < kPorts);
  ParsedFrame f;
  FUZZ_CHECK(parse_frame(frame, f) == FrameError::none);
  if (f.kind == FrameKind::arp) return;
  FUZZ_CHECK(f.kind == FrameKind::udp && check_inca_datagram(f, true) == DatagramError::none);
  wire::Header h;
  std::span<const std::byte> payload;
  if (f.dst_port != kRoceUdpPort) {
    FUZZ_CHECK(wire::decode(f.udp_payload, h, payload) == wire::DecodeError::none);
    return;
  }
  RocePacket p;
  FUZZ_CHECK(parse_roce(f, p) == RoceError::none);
  FUZZ_CHECK(p.opcode == roce_opcode::kUcRdmaWriteOnlyImm && p.reth && p.immediate);
  const RoceHostConfig qp = host_config(p.dest_qp == host_config(0).qpn ? 0 : 1);
  FUZZ_CHECK(p.dest_qp == qp.qpn && f.dst_ip == qp.self.ipv4);
  FUZZ_CHECK(p.reth->va == qp.ring_va + wire::ring_offset(*p.immediate, kRingEntries, kEntryBytes));
  FUZZ_CHECK(p.reth->dma_length == p.payload.size() && p.payload.size() <= kEntryBytes);
  FUZZ_CHECK(wire::decode(p.payload, h, payload) == wire::DecodeError::none);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzReader in{data, size};
  Switch s = make_switch();
  std::uint64_t now = 0;
  while (!in.empty()) {
    const std::uint8_t mode = in.byte();
    const std::uint16_t port = in.byte() % kPorts;
    const std::vector<std::byte> frame = next_frame(in, s, mode);
    const std::uint64_t engine_before = s.pipeline.engine().counters().packets_in;
    const FrameVerdict v = s.pipeline.on_frame(port, frame, now += 1000);
    if (s.pipeline.engine().counters().packets_in != engine_before) check_admitted(frame, s);
    for (const TxFrame& tx : v.transmit) check_sent(tx);
    for (std::uint16_t out : v.forward) FUZZ_CHECK(out < kPorts && out != port);
    const auto& c = s.pipeline.engine().counters();
    FUZZ_CHECK(engine::classified_packets(c) == c.packets_in);
  }
  return 0;
}
