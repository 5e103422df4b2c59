// Ethernet / ARP / IPv4 / UDP as inca-switch sees them: parsing of received
// frames (bounds-checked, never reads outside the span) and building of the
// headers the switch puts in front of the inca packets it emits. No DPDK here,
// so the logic is unit-tested without ports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/control_codec.hpp"

namespace inca::dpdk_switch {

using wire::MacAddress;

inline constexpr std::size_t kEthernetHeaderBytes = 14;
inline constexpr std::size_t kIpv4HeaderBytes = 20;  ///< without options
inline constexpr std::size_t kUdpHeaderBytes = 8;
inline constexpr std::size_t kArpBytes = 28;  ///< Ethernet/IPv4 ARP body
/// Ethernet + IPv4 + UDP headers in front of every inca packet the switch sends.
inline constexpr std::size_t kUdpFrameHeadBytes =
    kEthernetHeaderBytes + kIpv4HeaderBytes + kUdpHeaderBytes;
/// Preamble, start delimiter, FCS and inter-frame gap: what a frame costs on a
/// link beyond the bytes a port hands over (used by the rate limiter).
inline constexpr std::size_t kLinkOverheadBytes = 24;

inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;
inline constexpr std::uint8_t kIpProtoUdp = 17;
inline constexpr MacAddress kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

inline bool is_multicast(const MacAddress& mac) {
  return (mac[0] & 0x01) != 0;
}

/// One end of a UDP flow: where a frame comes from or goes to. IPv4 in host
/// byte order.
struct UdpEndpoint {
  MacAddress mac{};
  std::uint32_t ipv4 = 0;
  std::uint16_t port = 0;
  bool operator==(const UdpEndpoint&) const = default;
};

/// What a frame is, as far as the switch cares.
enum class FrameKind : std::uint8_t {
  other,  ///< any other EtherType: switched at layer 2
  arp,    ///< Ethernet/IPv4 ARP
  ipv4,   ///< IPv4 that is not UDP, or a non-first fragment
  udp,    ///< IPv4/UDP whose lengths fit the frame
};

/// Why a frame could not be parsed.
enum class FrameError : std::uint8_t {
  none = 0,
  runt,      ///< shorter than an Ethernet header
  bad_arp,   ///< ARP EtherType with a short or non-Ethernet/IPv4 body
  bad_ipv4,  ///< version, header length or total length inconsistent with the frame
  bad_udp,   ///< UDP header missing or its length outside the IPv4 payload
};

struct ParsedFrame {
  FrameKind kind = FrameKind::other;
  MacAddress dst_mac{};
  MacAddress src_mac{};
  std::uint16_t ether_type = 0;
  // arp
  std::uint16_t arp_op = 0;
  std::uint32_t arp_sender_ip = 0;
  std::uint32_t arp_target_ip = 0;
  // ipv4 / udp
  std::span<const std::byte> ipv4_header;  ///< with options
  std::uint32_t src_ip = 0;
  std::uint32_t dst_ip = 0;
  std::uint16_t ip_total_length = 0;
  bool ip_fragmented = false;  ///< more-fragments set or a fragment offset
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t udp_length = 0;
  std::span<const std::byte> udp_payload;  ///< per the UDP length field
};

/// Parses a received frame. Bytes after the IPv4 total length (Ethernet
/// padding) are ignored.
FrameError parse_frame(std::span<const std::byte> frame, ParsedFrame& out);

/// The inca rule on top of parse_frame for a datagram to the inca port: one
/// whole, unfragmented datagram whose UDP length is exactly the IPv4 payload.
enum class DatagramError : std::uint8_t { none = 0, ip_fragment, bad_udp_length, bad_ip_checksum };
DatagramError check_inca_datagram(const ParsedFrame& frame, bool verify_ip_checksum);

/// The Internet checksum (RFC 1071) of `bytes`, folded and complemented.
std::uint16_t internet_checksum(std::span<const std::byte> bytes);

/// Writes Ethernet + IPv4 (no options, DF, TTL 64, DSCP/ECN `tos`, checksum
/// filled) + UDP (checksum 0: none, as IPv4 allows) headers for a UDP payload
/// of `payload_bytes` into out[0..kUdpFrameHeadBytes). Returns the bytes
/// written, 0 when `out` is too short or the datagram would exceed 65535 bytes.
std::size_t write_udp_head(std::span<std::byte> out, const UdpEndpoint& src, const UdpEndpoint& dst,
                           std::size_t payload_bytes, std::uint8_t tos = 0);

/// True for an ARP request asking who has `ip`.
bool is_arp_request_for(const ParsedFrame& frame, std::uint32_t ip);

/// Writes the ARP reply to `request` (an ARP request for `ip`) announcing
/// `mac`. Returns the bytes written (42), 0 when `out` is too short.
std::size_t write_arp_reply(std::span<std::byte> out, const ParsedFrame& request,
                            const MacAddress& mac, std::uint32_t ip);

}  // namespace inca::dpdk_switch
