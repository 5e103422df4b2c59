// RoCEv2 frames as inca-switch sees them: Ethernet / IPv4 / UDP (port 4791)
// / BTH / extension headers / payload / pad / ICRC. Parsing validates the
// base transport header, the extension headers its opcode implies (Linux
// drivers/infiniband/sw/rxe/rxe_hdr.h and rxe_opcode.c; IBA volume 1,
// chapter 9), the pad and the invariant CRC, and never reads outside the
// frame; building writes every header and the ICRC. No DPDK here: the switch,
// the load generator, the tests and the fuzzer share this codec. The byte
// layout and the ICRC recipe are in docs/verbs.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "dpdk/frame.hpp"

namespace inca::dpdk_switch {

inline constexpr std::uint16_t kRoceUdpPort = 4791;  ///< IANA's RoCEv2 port
inline constexpr std::size_t kBthBytes = 12;
inline constexpr std::size_t kRethBytes = 16;
inline constexpr std::size_t kImmDtBytes = 4;
inline constexpr std::size_t kDethBytes = 8;
inline constexpr std::size_t kAethBytes = 4;
inline constexpr std::size_t kIcrcBytes = 4;
inline constexpr std::uint16_t kDefaultPkey = 0xffff;
inline constexpr std::uint32_t kPsnMask = 0xffffff;  ///< PSNs and QPNs are 24 bits
/// Ethernet + IPv4 + UDP + BTH + RETH + ImmDt: the head of an RDMA WRITE
/// with immediate, the only request inca-switch sends and takes.
inline constexpr std::size_t kRoceWriteImmHeadBytes =
    kUdpFrameHeadBytes + kBthBytes + kRethBytes + kImmDtBytes;
/// The most a frame carries after its payload: 3 pad bytes and the ICRC.
inline constexpr std::size_t kRoceMaxTailBytes = 3 + kIcrcBytes;

/// BTH opcodes inca-switch names (the upper 3 bits select RC, UC, RD or UD).
namespace roce_opcode {
inline constexpr std::uint8_t kRcSendOnly = 0x04;
inline constexpr std::uint8_t kRcRdmaWriteOnlyImm = 0x0b;
inline constexpr std::uint8_t kRcAcknowledge = 0x11;
inline constexpr std::uint8_t kUcSendOnly = 0x24;
inline constexpr std::uint8_t kUcRdmaWriteOnly = 0x2a;
inline constexpr std::uint8_t kUcRdmaWriteOnlyImm = 0x2b;
inline constexpr std::uint8_t kUdSendOnly = 0x64;
inline constexpr std::uint8_t kUdSendOnlyImm = 0x65;
inline constexpr std::uint8_t kCnp = 0x81;  ///< congestion notification (RoCEv2 annex A17)
}  // namespace roce_opcode

/// RDMA extended transport header: where an RDMA WRITE lands.
struct Reth {
  std::uint64_t va = 0;
  std::uint32_t rkey = 0;
  std::uint32_t dma_length = 0;
  bool operator==(const Reth&) const = default;
};

/// A parsed RoCEv2 packet (the UDP payload of a frame to port 4791).
struct RocePacket {
  // BTH
  std::uint8_t opcode = 0;
  bool solicited = false;
  bool migreq = false;
  std::uint8_t pad_count = 0;
  std::uint8_t version = 0;  ///< transport header version; 0 is the only one
  std::uint16_t pkey = 0;
  bool fecn = false;
  bool becn = false;
  std::uint32_t dest_qp = 0;
  bool ack_req = false;
  std::uint32_t psn = 0;
  // Extension headers, as the opcode implies.
  std::optional<Reth> reth;
  std::optional<std::uint32_t> immediate;
  std::optional<std::uint32_t> deth_qkey;
  std::optional<std::uint32_t> deth_src_qp;
  std::optional<std::uint32_t> aeth;   ///< syndrome (8 bits) and MSN (24 bits)
  std::span<const std::byte> payload;  ///< after the extension headers, pad removed
  std::uint32_t icrc = 0;              ///< as carried (the CRC value, not its bytes)
};

/// Why a RoCEv2 packet was refused, in the order parse_roce checks.
enum class RoceError : std::uint8_t {
  none = 0,
  truncated,       ///< shorter than BTH + ICRC, or than the extension headers
  bad_icrc,        ///< the invariant CRC does not match
  bad_version,     ///< BTH transport version is not 0
  unknown_opcode,  ///< an opcode this codec does not know (RD, reserved, vendor)
  bad_pad,         ///< more pad bytes than payload
};
std::string_view to_string(RoceError e);

/// Parses the RoCEv2 packet in `frame` (a parse_frame result whose UDP
/// destination is kRoceUdpPort and whose IPv4 packet is whole): checks the
/// size, the ICRC over the IPv4 packet, the version, the opcode and its
/// extension headers, and the pad. On failure `out` is unspecified.
RoceError parse_roce(const ParsedFrame& frame, RocePacket& out);

/// The ICRC of a RoCEv2 IPv4 packet (IPv4 header through the pad, without
/// the ICRC): zlib's CRC-32 over 8 bytes of 0xff and the packet with IPv4
/// TOS, TTL and header checksum, the UDP checksum and BTH byte 4 (FECN, BECN,
/// reserved) set to all ones. Stored least significant byte first.
std::uint32_t roce_icrc(std::span<const std::byte> ip_packet_without_icrc);

/// What write_roce_head writes in front of a payload.
struct RoceHeaders {
  UdpEndpoint src;  ///< MAC, IPv4 and UDP source port (flow entropy)
  UdpEndpoint dst;  ///< MAC and IPv4; the UDP destination is always kRoceUdpPort
  std::uint8_t tos = 0;
  std::uint8_t opcode = roce_opcode::kUcRdmaWriteOnlyImm;
  bool solicited = false;
  bool migreq = true;
  std::uint16_t pkey = kDefaultPkey;
  bool becn = false;
  std::uint32_t dest_qp = 0;
  bool ack_req = false;
  std::uint32_t psn = 0;
  std::optional<Reth> reth;
  std::optional<std::uint32_t> immediate;
};

/// The sizes write_roce_frame produced: head, then the caller's payload, then tail.
struct RoceFrameSizes {
  std::size_t head = 0;
  std::size_t tail = 0;
  std::size_t total(std::size_t payload) const { return head + payload + tail; }
};

/// Writes Ethernet/IPv4/UDP/BTH[/RETH][/ImmDt] into `head` and the pad and
/// ICRC into `tail` for `payload`, which goes between them (it is read, not
/// copied). The extension headers must match the opcode (RETH and ImmDt of
/// an RDMA WRITE with immediate, none for SEND_ONLY). Returns zero sizes when
/// a span is too short, the headers do not fit the opcode, or the datagram
/// would exceed 65535 bytes.
RoceFrameSizes write_roce_frame(std::span<std::byte> head, std::span<std::byte> tail,
                                const RoceHeaders& h, std::span<const std::byte> payload);

/// (psn - expected) as a signed distance in the 24-bit PSN space: 0 in
/// order, positive ahead (packets were skipped), negative behind (a
/// duplicate or a late packet).
std::int32_t psn_distance(std::uint32_t psn, std::uint32_t expected);

}  // namespace inca::dpdk_switch
