// The inca v1 wire header: a fixed 32-byte big-endian header in front of every
// aggregation, result, point-to-point, control and error payload. The byte
// diagram is docs/protocol.md. Decode validates every field and never reads
// past the buffer it is given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "inca/dtype.hpp"
#include "inca/status.hpp"

namespace inca::wire {

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderBytes = 32;
/// Default UDP port on real networks (configurable).
inline constexpr std::uint16_t kDefaultUdpPort = 4792;
/// The largest payload a header may describe (a jumbo frame's worth).
inline constexpr std::size_t kMaxPayloadBytes = 9000;
/// The top bit of the 16-bit slot field selects the shadow set (as in SwitchML).
inline constexpr std::uint16_t kShadowBit = 0x8000;
inline constexpr std::uint16_t kMaxSlot = 0x7fff;

enum class PacketType : std::uint8_t {
  contribution = 1,  ///< host or switch -> parent: a (partial) reduction of one chunk
  result = 2,        ///< parent -> child: the completed reduction of one chunk
  p2p = 3,           ///< rank -> rank point-to-point data (forwarded, never aggregated)
  control = 4,       ///< manager <-> switch configuration
  error = 5,         ///< switch -> host: the request was refused (status in `sequence`)
  ack = 6,           ///< rank -> rank: acknowledges point-to-point fragments
};

/// Header flag bits.
enum Flag : std::uint8_t {
  kFlagLast = 0x01,          ///< last chunk of a message
  kFlagReproducible = 0x02,  ///< reduce children in fixed child order
  /// contribution/result only: the chunk's `count` elements are the op's
  /// identity and are not carried (a header-only packet). A rank that holds
  /// nothing of a chunk (all-gather, broadcast: SHARP's multicast from the
  /// data's owner) uploads only this; a switch skips it when it reduces, and
  /// its partial or result is one too when every child's was.
  kFlagIdentity = 0x04,
  /// On a contribution: its sender keeps none of the chunk's result, so its
  /// answer is the result's header alone (SHARP's reduce answers the root
  /// only; a reduce-scatter wants only the rank's block). On a result: the
  /// header alone, the data withheld; it still answers the chunk and frees
  /// the slot. A switch's partial asks for it when every child below did.
  kFlagHeaderOnly = 0x08,
};

/// The decoded header. Field meanings by packet type:
/// - contribution/result: job, key_tag, tree, slot+shadow, sequence = chunk
///   index, child = sender's child index at the receiving switch (contribution)
///   or 0 (result), dtype/op/count describe the payload.
/// - p2p: job, key_tag, tree = user message tag, slot = per (source,
///   destination) message number modulo 2^15, sequence = byte offset of this
///   fragment in the message, child = source rank, count = payload bytes,
///   dtype/op = the element type and op of the collective the message belongs
///   to (u8/sum for plain byte messages; receivers check them), kFlagLast on
///   the fragment that ends the message.
/// - ack: job, key_tag, tree = tag, slot = message number of the p2p message
///   acknowledged, child = the acknowledging (receiving) rank, kFlagLast when
///   the whole message arrived; otherwise the payload is a bitmap of the
///   fragments that arrived (bit i of byte i/8, least significant first).
/// - error: tree, slot+shadow as in the refused chunk, sequence = StatusCode,
///   payload = the refused chunk's sequence (4 bytes, big-endian) followed by
///   a message in UTF-8.
/// - contribution/result: attempt_tag is the low 8 bits of the collective's
///   attempt number; a switch aggregates only contributions that agree on
///   it, so two different collectives never mix in one slot.
struct Header {
  std::uint8_t version = kVersion;
  PacketType type = PacketType::contribution;
  std::uint8_t flags = 0;
  Dtype dtype = Dtype::u8;
  ReduceOp op = ReduceOp::sum;
  std::uint8_t attempt_tag = 0;  ///< see above; 0 for other types
  std::uint16_t child = 0;
  std::uint32_t job = 0;
  std::uint32_t key_tag = 0;
  std::uint16_t tree = 0;
  std::uint16_t slot = 0;  ///< 0..kMaxSlot (without the shadow bit)
  bool shadow = false;     ///< shadow set selector
  std::uint32_t sequence = 0;
  std::uint32_t count = 0;     ///< elements in the payload (bytes for p2p/control/error)
  std::uint32_t checksum = 0;  ///< filled by encode, checked by decode

  bool has(Flag f) const { return (flags & f) != 0; }
  bool carries_elements() const {
    return type == PacketType::contribution || type == PacketType::result;
  }
  /// Bytes of the chunk a contribution or result stands for (count * dtype
  /// size), carried or not; count for the byte types.
  std::size_t chunk_bytes() const {
    return carries_elements() ? std::size_t{count} * dtype_size(dtype) : count;
  }
  /// Payload bytes this header announces: chunk_bytes(), or 0 for an
  /// identity chunk and a result whose data is withheld.
  std::size_t payload_bytes() const {
    const bool empty = (has(kFlagIdentity) && carries_elements()) ||
                       (has(kFlagHeaderOnly) && type == PacketType::result);
    return empty ? 0 : chunk_bytes();
  }
};

/// Why a decode failed; each maps to a counter and to a message.
enum class DecodeError : std::uint8_t {
  none = 0,
  truncated,  ///< fewer bytes than the header or than the payload it announces
  bad_version,
  bad_type,
  bad_dtype,
  bad_op,
  bad_flags,  ///< unknown flag bits set
  bad_slot,   ///< slot out of range (v1 has no reserved slot bits, so decode never
              ///< returns it; kept for callers validating a Header)
  bad_count,  ///< payload larger than kMaxPayloadBytes, or trailing bytes
  bad_pair,   ///< dtype/op pair not valid (e.g. band on f32)
  bad_checksum,
};
std::string_view to_string(DecodeError e);
/// "contribution", "result", ... ("packet" for a value outside the enum).
std::string_view to_string(PacketType type);

/// Writes header+payload into out (which must hold kHeaderBytes + payload.size()),
/// computing the checksum over both. Returns bytes written, or 0 when out is too
/// small or the header does not describe payload.size() bytes.
std::size_t encode(const Header& h, std::span<const std::byte> payload, std::span<std::byte> out);

/// Validates and decodes a packet. On success `payload` views the payload bytes
/// inside `in`; on failure `h` and `payload` are left untouched. Never reads
/// outside `in`. Checks run in the order documented in docs/protocol.md.
DecodeError decode(std::span<const std::byte> in, Header& h, std::span<const std::byte>& payload);

/// The checksum used on the wire: CRC-32 (IEEE 802.3, zlib's crc32) over the
/// header (with the checksum field zero) and the payload. Bytes 28..31 of
/// header_bytes count as zero whatever they hold, so a received header can be
/// passed as is.
std::uint32_t checksum(std::span<const std::byte> header_bytes, std::span<const std::byte> payload);

}  // namespace inca::wire
