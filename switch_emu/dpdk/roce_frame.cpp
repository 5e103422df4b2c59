// RoCEv2 parsing and building. The extension headers of each opcode follow
// IBA volume 1, table 38 (as Linux rxe_opcode.c lists them); the ICRC recipe
// follows rxe_icrc.c and scapy's contrib/roce.py. The masked headers are
// copied into a small buffer, and the CRC then runs on over the frame's own
// payload bytes with the table-driven / carry-less-multiply CRC-32 of
// wire/crc32.hpp (zlib's polynomial and conventions).
#include "dpdk/roce_frame.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "dpdk/byte_io.hpp"
#include "wire/crc32.hpp"

namespace inca::dpdk_switch {

using namespace bytes;  // NOLINT(google-build-using-namespace): field accessors

namespace {

constexpr std::size_t kIpv4MaxHeaderBytes = 60;
constexpr std::size_t kIpChecksumOffset = 10;
constexpr std::size_t kUdpChecksumOffset = 6;
constexpr std::size_t kBthMaskedByte = 4;   // FECN, BECN and the 6 reserved bits
constexpr std::size_t kPseudoLrhBytes = 8;  // RoCEv2 stands 8 bytes of 0xff for the LRH

// Which extension headers follow the BTH for an opcode, in their wire order
// (DETH, RETH, AETH, other, ImmDt).
struct OpcodeLayout {
  bool known = false;
  bool deth = false;
  bool reth = false;
  bool aeth = false;
  std::uint8_t other_bytes = 0;  // AtomicETH (28), AtomicAckETH (8), IETH (4)
  bool immediate = false;
};

OpcodeLayout reliable_or_unreliable(std::uint8_t op, bool reliable) {
  OpcodeLayout l;
  l.known = true;
  switch (op) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x04:
    case 0x07:
    case 0x08:
      return l;
    case 0x03:
    case 0x05:
    case 0x09:
      l.immediate = true;
      return l;
    case 0x06:
    case 0x0a:
      l.reth = true;
      return l;
    case 0x0b:
      l.reth = l.immediate = true;
      return l;
    default:
      break;
  }
  if (!reliable) return {};
  switch (op) {
    case 0x0c:
      l.reth = true;
      return l;
    case 0x0e:
      return l;
    case 0x0d:
    case 0x0f:
    case 0x10:
    case 0x11:
      l.aeth = true;
      return l;
    case 0x12:
      l.aeth = true;
      l.other_bytes = 8;
      return l;
    case 0x13:
    case 0x14:
      l.other_bytes = 28;
      return l;
    case 0x16:
    case 0x17:
      l.other_bytes = 4;
      return l;
    default:
      return {};
  }
}

OpcodeLayout layout(std::uint8_t opcode) {
  if (opcode == roce_opcode::kCnp) return {.known = true};
  const std::uint8_t op = opcode & 0x1f;
  switch (opcode & 0xe0) {
    case 0x00:
      return reliable_or_unreliable(op, true);
    case 0x20:
      return reliable_or_unreliable(op, false);
    case 0x60:
      if (op != 0x04 && op != 0x05) return {};
      return {.known = true, .deth = true, .immediate = op == 0x05};
    default:
      return {};  // RD (it needs an RDETH) and the reserved/vendor ranges
  }
}

std::size_t extension_bytes(const OpcodeLayout& l) {
  return (l.deth ? kDethBytes : 0) + (l.reth ? kRethBytes : 0) + (l.aeth ? kAethBytes : 0) +
         l.other_bytes + (l.immediate ? kImmDtBytes : 0);
}

std::uint32_t read_icrc(std::span<const std::byte> b, std::size_t off) {
  // Least significant byte first (scapy's pack_icrc, rxe's cpu_to_le32 of ~crc).
  return std::uint32_t{get8(b, off)} | (std::uint32_t{get8(b, off + 1)} << 8) |
         (std::uint32_t{get8(b, off + 2)} << 16) | (std::uint32_t{get8(b, off + 3)} << 24);
}

void write_icrc(std::span<std::byte> b, std::size_t off, std::uint32_t icrc) {
  for (std::size_t i = 0; i < kIcrcBytes; ++i)
    put8(b, off + i, static_cast<std::uint8_t>(icrc >> (8 * i)));
}

}  // namespace

std::string_view to_string(RoceError e) {
  switch (e) {
    case RoceError::none:
      return "none";
    case RoceError::truncated:
      return "truncated";
    case RoceError::bad_icrc:
      return "bad_icrc";
    case RoceError::bad_version:
      return "bad_version";
    case RoceError::unknown_opcode:
      return "unknown_opcode";
    case RoceError::bad_pad:
      return "bad_pad";
  }
  return "unknown_roce_error";
}

std::uint32_t roce_icrc(std::span<const std::byte> ip) {
  // The caller passes a whole IPv4 packet; anything shorter than its headers
  // has no ICRC to speak of (and never reaches here from parse_roce).
  const std::size_t ihl = ip.empty() ? 0 : std::size_t{get8(ip, 0) & 0x0fu} * 4;
  const std::size_t masked = ihl + kUdpHeaderBytes + kBthBytes;
  if (ihl < kIpv4HeaderBytes || ihl > kIpv4MaxHeaderBytes || ip.size() < masked) return 0;
  // The masked copy goes in front of the packet's next bytes in one block,
  // which wire::crc32 folds with the rest of the packet in a single
  // carry-less-multiply pass (the block is 256 bytes) or, for a short
  // packet, with the rest on whole 16-byte blocks: either way zlib's
  // byte-wise code sees at most 15 bytes per packet.
  constexpr std::size_t kBlock = 256;
  constexpr std::size_t kFold = 64;
  std::array<std::byte, kBlock> first;
  const std::size_t prefix = kPseudoLrhBytes + masked;
  const std::size_t rest = ip.size() - masked;
  std::size_t take = kBlock - prefix;
  if (rest < take + 16) {
    const std::size_t at_least = std::min(rest, prefix < kFold ? kFold - prefix : 0);
    take = at_least + (rest - at_least) % 16;
  }
  std::memset(first.data(), 0xff, kPseudoLrhBytes);
  std::memcpy(first.data() + kPseudoLrhBytes, ip.data(), masked + take);
  const auto c = std::span<std::byte>(first).subspan(kPseudoLrhBytes);
  put8(c, 1, 0xff);                     // TOS: DSCP and ECN
  put8(c, 8, 0xff);                     // TTL
  put16(c, kIpChecksumOffset, 0xffff);  // header checksum
  put16(c, ihl + kUdpChecksumOffset, 0xffff);
  put8(c, ihl + kUdpHeaderBytes + kBthMaskedByte, 0xff);
  return wire::crc32(0, std::span<const std::byte>(first.data(), prefix + take),
                     ip.subspan(masked + take));
}

RoceError parse_roce(const ParsedFrame& f, RocePacket& out) {
  const auto p = f.udp_payload;
  if (p.size() < kBthBytes + kIcrcBytes) return RoceError::truncated;
  const std::span<const std::byte> ip(f.ipv4_header.data(), f.ip_total_length);
  const std::size_t icrc_at = p.size() - kIcrcBytes;
  out.icrc = read_icrc(p, icrc_at);
  if (roce_icrc(ip.first(ip.size() - kIcrcBytes)) != out.icrc) return RoceError::bad_icrc;

  out.opcode = get8(p, 0);
  const std::uint8_t flags = get8(p, 1);
  out.solicited = (flags & 0x80) != 0;
  out.migreq = (flags & 0x40) != 0;
  out.pad_count = (flags >> 4) & 0x03;
  out.version = flags & 0x0f;
  out.pkey = get16(p, 2);
  out.fecn = (get8(p, 4) & 0x80) != 0;
  out.becn = (get8(p, 4) & 0x40) != 0;
  out.dest_qp = get24(p, 5);
  out.ack_req = (get8(p, 8) & 0x80) != 0;
  out.psn = get24(p, 9);
  if (out.version != 0) return RoceError::bad_version;
  const OpcodeLayout l = layout(out.opcode);
  if (!l.known) return RoceError::unknown_opcode;
  if (kBthBytes + extension_bytes(l) > icrc_at) return RoceError::truncated;

  std::size_t at = kBthBytes;
  out.reth.reset();
  out.immediate.reset();
  out.deth_qkey.reset();
  out.deth_src_qp.reset();
  out.aeth.reset();
  if (l.deth) {
    out.deth_qkey = get32(p, at);
    out.deth_src_qp = get24(p, at + 5);
    at += kDethBytes;
  }
  if (l.reth) {
    out.reth = Reth{get64(p, at), get32(p, at + 8), get32(p, at + 12)};
    at += kRethBytes;
  }
  if (l.aeth) {
    out.aeth = get32(p, at);
    at += kAethBytes;
  }
  at += l.other_bytes;
  if (l.immediate) {
    out.immediate = get32(p, at);
    at += kImmDtBytes;
  }
  if (icrc_at - at < out.pad_count) return RoceError::bad_pad;
  out.payload = p.subspan(at, icrc_at - at - out.pad_count);
  return RoceError::none;
}

RoceFrameSizes write_roce_frame(std::span<std::byte> head, std::span<std::byte> tail,
                                const RoceHeaders& h, std::span<const std::byte> payload) {
  const OpcodeLayout l = layout(h.opcode);
  if (!l.known || l.deth || l.aeth || l.other_bytes != 0 || l.reth != h.reth.has_value() ||
      l.immediate != h.immediate.has_value())
    return {};
  const std::size_t head_bytes = kUdpFrameHeadBytes + kBthBytes + extension_bytes(l);
  const std::size_t pad = (4 - payload.size() % 4) % 4;
  const std::size_t tail_bytes = pad + kIcrcBytes;
  const std::size_t udp_payload = head_bytes - kUdpFrameHeadBytes + payload.size() + tail_bytes;
  if (head.size() < head_bytes || tail.size() < tail_bytes) return {};
  const UdpEndpoint dst{h.dst.mac, h.dst.ipv4, kRoceUdpPort};
  if (write_udp_head(head, h.src, dst, udp_payload, h.tos) == 0) return {};

  const auto bth = head.subspan(kUdpFrameHeadBytes, kBthBytes);
  put8(bth, 0, h.opcode);
  put8(bth, 1,
       static_cast<std::uint8_t>((h.solicited ? 0x80 : 0) | (h.migreq ? 0x40 : 0) | (pad << 4)));
  put16(bth, 2, h.pkey);
  put8(bth, 4, h.becn ? 0x40 : 0);
  put24(bth, 5, h.dest_qp & kPsnMask);
  put8(bth, 8, h.ack_req ? 0x80 : 0);
  put24(bth, 9, h.psn & kPsnMask);
  std::size_t at = kUdpFrameHeadBytes + kBthBytes;
  if (h.reth) {
    put64(head, at, h.reth->va);
    put32(head, at + 8, h.reth->rkey);
    put32(head, at + 12, h.reth->dma_length);
    at += kRethBytes;
  }
  if (h.immediate) put32(head, at, *h.immediate);

  std::memset(tail.data(), 0, pad);
  const auto ip_head = head.subspan(kEthernetHeaderBytes, head_bytes - kEthernetHeaderBytes);
  std::uint32_t crc = roce_icrc(ip_head);
  crc = wire::crc32(crc, payload);
  crc = wire::crc32(crc, tail.first(pad));
  write_icrc(tail, pad, crc);
  return {head_bytes, tail_bytes};
}

std::int32_t psn_distance(std::uint32_t psn, std::uint32_t expected) {
  const std::uint32_t d = (psn - expected) & kPsnMask;
  return d >= 0x800000 ? static_cast<std::int32_t>(d) - 0x1000000 : static_cast<std::int32_t>(d);
}

}  // namespace inca::dpdk_switch
