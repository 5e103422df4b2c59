// Frame parsing and header building for inca-switch. Every read is preceded
// by a length check against the span; multi-byte fields are big-endian and
// assembled byte by byte (no alignment or endianness assumptions).
#include "dpdk/frame.hpp"

#include <algorithm>

#include "dpdk/byte_io.hpp"

namespace inca::dpdk_switch {

using namespace bytes;  // NOLINT(google-build-using-namespace): field accessors

namespace {

constexpr std::uint16_t kArpHardwareEthernet = 1;
constexpr std::uint16_t kArpOpRequest = 1;
constexpr std::uint16_t kArpOpReply = 2;
constexpr std::uint16_t kIpMoreFragments = 0x2000;
constexpr std::uint16_t kIpDontFragment = 0x4000;
constexpr std::uint16_t kIpOffsetMask = 0x1fff;
constexpr std::uint8_t kDefaultTtl = 64;

void write_ethernet(std::span<std::byte> out, const MacAddress& dst, const MacAddress& src,
                    std::uint16_t ether_type) {
  put_mac(out, 0, dst);
  put_mac(out, 6, src);
  put16(out, 12, ether_type);
}

FrameError parse_arp(std::span<const std::byte> body, ParsedFrame& out) {
  if (body.size() < kArpBytes) return FrameError::bad_arp;
  if (get16(body, 0) != kArpHardwareEthernet || get16(body, 2) != kEtherTypeIpv4 ||
      get8(body, 4) != 6 || get8(body, 5) != 4)
    return FrameError::bad_arp;
  out.kind = FrameKind::arp;
  out.arp_op = get16(body, 6);
  out.arp_sender_ip = get32(body, 14);
  out.arp_target_ip = get32(body, 24);
  return FrameError::none;
}

FrameError parse_ipv4(std::span<const std::byte> packet, ParsedFrame& out) {
  if (packet.size() < kIpv4HeaderBytes) return FrameError::bad_ipv4;
  const std::uint8_t version_ihl = get8(packet, 0);
  const std::size_t header_bytes = std::size_t{version_ihl & 0x0fu} * 4;
  const std::uint16_t total = get16(packet, 2);
  if ((version_ihl >> 4) != 4 || header_bytes < kIpv4HeaderBytes || total < header_bytes ||
      total > packet.size())
    return FrameError::bad_ipv4;
  const std::uint16_t fragment = get16(packet, 6);
  out.kind = FrameKind::ipv4;
  out.ipv4_header = packet.first(header_bytes);
  out.ip_total_length = total;
  out.ip_fragmented = (fragment & (kIpMoreFragments | kIpOffsetMask)) != 0;
  out.src_ip = get32(packet, 12);
  out.dst_ip = get32(packet, 16);
  // Only a first fragment starts with the UDP header.
  if (get8(packet, 9) != kIpProtoUdp || (fragment & kIpOffsetMask) != 0) return FrameError::none;

  const auto datagram = packet.subspan(header_bytes, total - header_bytes);
  if (datagram.size() < kUdpHeaderBytes) return FrameError::bad_udp;
  out.src_port = get16(datagram, 0);
  out.dst_port = get16(datagram, 2);
  out.udp_length = get16(datagram, 4);
  // A fragmented datagram is longer than this packet's share of it.
  if (out.udp_length < kUdpHeaderBytes || (!out.ip_fragmented && out.udp_length > datagram.size()))
    return FrameError::bad_udp;
  const std::size_t payload = std::min<std::size_t>(out.udp_length, datagram.size());
  out.udp_payload = datagram.subspan(kUdpHeaderBytes, payload - kUdpHeaderBytes);
  out.kind = FrameKind::udp;
  return FrameError::none;
}

}  // namespace

FrameError parse_frame(std::span<const std::byte> frame, ParsedFrame& out) {
  out = ParsedFrame{};
  if (frame.size() < kEthernetHeaderBytes) return FrameError::runt;
  out.dst_mac = get_mac(frame, 0);
  out.src_mac = get_mac(frame, 6);
  out.ether_type = get16(frame, 12);
  const auto body = frame.subspan(kEthernetHeaderBytes);
  switch (out.ether_type) {
    case kEtherTypeArp:
      return parse_arp(body, out);
    case kEtherTypeIpv4:
      return parse_ipv4(body, out);
    default:
      return FrameError::none;
  }
}

DatagramError check_inca_datagram(const ParsedFrame& frame, bool verify_ip_checksum) {
  if (frame.ip_fragmented) return DatagramError::ip_fragment;
  if (std::size_t{frame.udp_length} + frame.ipv4_header.size() != frame.ip_total_length)
    return DatagramError::bad_udp_length;
  if (verify_ip_checksum && internet_checksum(frame.ipv4_header) != 0)
    return DatagramError::bad_ip_checksum;
  return DatagramError::none;
}

std::uint16_t internet_checksum(std::span<const std::byte> bytes) {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) sum += get16(bytes, i);
  if (i < bytes.size()) sum += std::uint32_t{get8(bytes, i)} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::size_t write_udp_head(std::span<std::byte> out, const UdpEndpoint& src, const UdpEndpoint& dst,
                           std::size_t payload_bytes, std::uint8_t tos) {
  const std::size_t udp_length = kUdpHeaderBytes + payload_bytes;
  const std::size_t ip_length = kIpv4HeaderBytes + udp_length;
  if (out.size() < kUdpFrameHeadBytes || ip_length > 0xffff) return 0;
  write_ethernet(out, dst.mac, src.mac, kEtherTypeIpv4);
  auto ip = out.subspan(kEthernetHeaderBytes, kIpv4HeaderBytes);
  put8(ip, 0, 0x45);  // version 4, 5 words
  put8(ip, 1, tos);   // DSCP/ECN
  put16(ip, 2, static_cast<std::uint16_t>(ip_length));
  put16(ip, 4, 0);  // identification: unused with DF
  put16(ip, 6, kIpDontFragment);
  put8(ip, 8, kDefaultTtl);
  put8(ip, 9, kIpProtoUdp);
  put16(ip, 10, 0);
  put32(ip, 12, src.ipv4);
  put32(ip, 16, dst.ipv4);
  put16(ip, 10, internet_checksum(ip));
  auto udp = out.subspan(kEthernetHeaderBytes + kIpv4HeaderBytes, kUdpHeaderBytes);
  put16(udp, 0, src.port);
  put16(udp, 2, dst.port);
  put16(udp, 4, static_cast<std::uint16_t>(udp_length));
  put16(udp, 6, 0);
  return kUdpFrameHeadBytes;
}

std::size_t write_arp_reply(std::span<std::byte> out, const ParsedFrame& request,
                            const MacAddress& mac, std::uint32_t ip) {
  constexpr std::size_t kBytes = kEthernetHeaderBytes + kArpBytes;
  if (out.size() < kBytes) return 0;
  write_ethernet(out, request.src_mac, mac, kEtherTypeArp);
  auto arp = out.subspan(kEthernetHeaderBytes, kArpBytes);
  put16(arp, 0, kArpHardwareEthernet);
  put16(arp, 2, kEtherTypeIpv4);
  put8(arp, 4, 6);
  put8(arp, 5, 4);
  put16(arp, 6, kArpOpReply);
  put_mac(arp, 8, mac);
  put32(arp, 14, ip);
  put_mac(arp, 18, request.src_mac);
  put32(arp, 24, request.arp_sender_ip);
  return kBytes;
}

bool is_arp_request_for(const ParsedFrame& frame, std::uint32_t ip) {
  return frame.kind == FrameKind::arp && frame.arp_op == kArpOpRequest && frame.arp_target_ip == ip;
}

}  // namespace inca::dpdk_switch
