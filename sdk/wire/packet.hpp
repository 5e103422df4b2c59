// A packet as the sans-I/O parts see it: the decoded header, a shared payload
// and the fabric addresses used to forward point-to-point traffic. Fabrics
// that put packets on a real wire encode/decode it with wire/header.hpp; the
// simulator passes it as is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "wire/header.hpp"

namespace inca::wire {

/// Payload bytes shared by every copy of a packet (a multicast result is one
/// buffer referenced by each child's packet). Immutable once sent.
using Payload = std::shared_ptr<const std::vector<std::byte>>;

/// Makes a payload holding a copy of `bytes`.
Payload make_payload(std::span<const std::byte> bytes);
Payload make_payload(const void* data, std::size_t size);

/// Bytes of Ethernet (14 + 4 FCS), IPv4 (20) and UDP (8) framing plus the
/// preamble and inter-frame gap (20) that every inca packet costs on a link.
inline constexpr std::size_t kFramingBytes = 66;

/// A fabric address: the index of a host (rank) in the fabric.
using Address = std::uint32_t;
inline constexpr Address kNoAddress = 0xffffffffu;

struct Packet {
  Header header;
  /// Wire packets this packet stands for: 1 on every real wire; more in the
  /// simulator's segment mode (docs/model.md), where one packet carries K
  /// MTU-sized packets' payload and costs K packets' framing and headers.
  std::uint16_t packets = 1;
  /// With packets > 1: the payload of each but the last (which carries the rest).
  std::uint16_t packet_payload = 0;
  /// Null in timing-only mode: the packet still has the size its header says.
  Payload payload;
  Address src = kNoAddress;
  Address dst = kNoAddress;  ///< destination host for forwarded (p2p) packets

  std::size_t payload_bytes() const { return header.payload_bytes(); }
  /// Bytes the packet occupies on a link, framing included (of each packet it stands for).
  std::size_t wire_bytes() const {
    return packets * (kFramingBytes + kHeaderBytes) + payload_bytes();
  }
  /// Wire bytes of the first and of the last packet it stands for (an
  /// identity chunk's are headers only).
  std::size_t first_wire_bytes() const {
    if (packets == 1) return wire_bytes();
    return kFramingBytes + kHeaderBytes + (payload_bytes() == 0 ? 0 : packet_payload);
  }
  std::size_t last_wire_bytes() const {
    if (packets == 1) return wire_bytes();
    return kFramingBytes + kHeaderBytes +
           (payload_bytes() == 0 ? 0
                                 : payload_bytes() - std::size_t{packets - 1u} * packet_payload);
  }
  std::span<const std::byte> payload_span() const {
    return payload ? std::span<const std::byte>(*payload) : std::span<const std::byte>();
  }
};

}  // namespace inca::wire
