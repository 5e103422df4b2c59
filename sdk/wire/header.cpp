// Encoding and validation of the inca v1 wire header. The layout is fixed by
// docs/protocol.md; every multi-byte field is big-endian and is assembled byte
// by byte so the code is independent of host endianness and alignment.
#include "wire/header.hpp"

#include "wire/crc32.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace inca::wire {
namespace {

// Byte offsets of the header fields (docs/protocol.md).
constexpr std::size_t kOffVersion = 0;
constexpr std::size_t kOffType = 1;
constexpr std::size_t kOffFlags = 2;
constexpr std::size_t kOffDtype = 3;
constexpr std::size_t kOffOp = 4;
constexpr std::size_t kOffAttemptTag = 5;
constexpr std::size_t kOffChild = 6;
constexpr std::size_t kOffJob = 8;
constexpr std::size_t kOffKeyTag = 12;
constexpr std::size_t kOffTree = 16;
constexpr std::size_t kOffSlot = 18;
constexpr std::size_t kOffSequence = 20;
constexpr std::size_t kOffCount = 24;
constexpr std::size_t kOffChecksum = 28;
static_assert(kOffChecksum + 4 == kHeaderBytes);

constexpr std::uint8_t kKnownFlags =
    kFlagLast | kFlagReproducible | kFlagIdentity | kFlagHeaderOnly;

void put_u8(std::byte* p, std::size_t off, std::uint8_t v) {
  p[off] = static_cast<std::byte>(v);
}

void put_u16(std::byte* p, std::size_t off, std::uint16_t v) {
  p[off] = static_cast<std::byte>(v >> 8);
  p[off + 1] = static_cast<std::byte>(v);
}

void put_u32(std::byte* p, std::size_t off, std::uint32_t v) {
  p[off] = static_cast<std::byte>(v >> 24);
  p[off + 1] = static_cast<std::byte>(v >> 16);
  p[off + 2] = static_cast<std::byte>(v >> 8);
  p[off + 3] = static_cast<std::byte>(v);
}

std::uint8_t get_u8(const std::byte* p, std::size_t off) {
  return std::to_integer<std::uint8_t>(p[off]);
}

std::uint16_t get_u16(const std::byte* p, std::size_t off) {
  return static_cast<std::uint16_t>((get_u8(p, off) << 8) | get_u8(p, off + 1));
}

std::uint32_t get_u32(const std::byte* p, std::size_t off) {
  return (std::uint32_t{get_u8(p, off)} << 24) | (std::uint32_t{get_u8(p, off + 1)} << 16) |
         (std::uint32_t{get_u8(p, off + 2)} << 8) | std::uint32_t{get_u8(p, off + 3)};
}

bool is_valid_type_code(std::uint8_t code) {
  return code >= static_cast<std::uint8_t>(PacketType::contribution) &&
         code <= static_cast<std::uint8_t>(PacketType::ack);
}

bool is_element_type(PacketType t) {
  return t == PacketType::contribution || t == PacketType::result;
}

// zlib's crc32 treats a null buffer as "return the initial value", which would
// silently reset the running CRC, so empty spans are skipped instead.
uLong crc_update(uLong crc, std::span<const std::byte> bytes) {
  if (bytes.empty()) return crc;
  return crc32(static_cast<std::uint32_t>(crc), bytes);  // zlib's CRC-32, folded with PCLMULQDQ
}

}  // namespace

std::string_view to_string(PacketType type) {
  switch (type) {
    case PacketType::contribution:
      return "contribution";
    case PacketType::result:
      return "result";
    case PacketType::p2p:
      return "p2p";
    case PacketType::control:
      return "control";
    case PacketType::error:
      return "error";
    case PacketType::ack:
      return "ack";
  }
  return "packet";
}

std::string_view to_string(DecodeError e) {
  switch (e) {
    case DecodeError::none:
      return "none";
    case DecodeError::truncated:
      return "truncated";
    case DecodeError::bad_version:
      return "bad_version";
    case DecodeError::bad_type:
      return "bad_type";
    case DecodeError::bad_dtype:
      return "bad_dtype";
    case DecodeError::bad_op:
      return "bad_op";
    case DecodeError::bad_flags:
      return "bad_flags";
    case DecodeError::bad_slot:
      return "bad_slot";
    case DecodeError::bad_count:
      return "bad_count";
    case DecodeError::bad_pair:
      return "bad_pair";
    case DecodeError::bad_checksum:
      return "bad_checksum";
  }
  return "unknown_decode_error";
}

std::uint32_t checksum(std::span<const std::byte> header_bytes,
                       std::span<const std::byte> payload) {
  // The checksum field is part of the covered bytes but must count as zero, so
  // callers can pass a received header verbatim.
  std::array<std::byte, kHeaderBytes> head{};
  const std::size_t n = std::min(header_bytes.size(), kHeaderBytes);
  if (n > 0) std::memcpy(head.data(), header_bytes.data(), n);
  for (std::size_t i = kOffChecksum; i < n; ++i) head[i] = std::byte{0};
  uLong crc = crc32_z(0L, Z_NULL, 0);
  crc = crc_update(crc, std::span<const std::byte>(head.data(), n));
  if (header_bytes.size() > kHeaderBytes) crc = crc_update(crc, header_bytes.subspan(kHeaderBytes));
  crc = crc_update(crc, payload);
  return static_cast<std::uint32_t>(crc);
}

std::size_t encode(const Header& h, std::span<const std::byte> payload, std::span<std::byte> out) {
  if (h.slot > kMaxSlot) return 0;
  if (payload.size() != h.payload_bytes()) return 0;
  const std::size_t total = kHeaderBytes + payload.size();
  if (out.size() < total) return 0;

  std::byte* p = out.data();
  put_u8(p, kOffVersion, h.version);
  put_u8(p, kOffType, static_cast<std::uint8_t>(h.type));
  put_u8(p, kOffFlags, h.flags);
  put_u8(p, kOffDtype, static_cast<std::uint8_t>(h.dtype));
  put_u8(p, kOffOp, static_cast<std::uint8_t>(h.op));
  put_u8(p, kOffAttemptTag, h.attempt_tag);
  put_u16(p, kOffChild, h.child);
  put_u32(p, kOffJob, h.job);
  put_u32(p, kOffKeyTag, h.key_tag);
  put_u16(p, kOffTree, h.tree);
  put_u16(p, kOffSlot, static_cast<std::uint16_t>(h.slot | (h.shadow ? kShadowBit : 0)));
  put_u32(p, kOffSequence, h.sequence);
  put_u32(p, kOffCount, h.count);
  put_u32(p, kOffChecksum, 0);
  if (!payload.empty()) std::memcpy(p + kHeaderBytes, payload.data(), payload.size());
  put_u32(p, kOffChecksum, checksum(std::span<const std::byte>(p, kHeaderBytes), payload));
  return total;
}

DecodeError decode(std::span<const std::byte> in, Header& h, std::span<const std::byte>& payload) {
  if (in.size() < kHeaderBytes) return DecodeError::truncated;
  const std::byte* p = in.data();

  Header d;
  d.version = get_u8(p, kOffVersion);
  if (d.version != kVersion) return DecodeError::bad_version;

  const std::uint8_t type = get_u8(p, kOffType);
  if (!is_valid_type_code(type)) return DecodeError::bad_type;
  d.type = static_cast<PacketType>(type);

  // Byte-oriented types still carry valid dtype/op codes (u8/sum) so that a
  // single rule validates every packet.
  const std::uint8_t dtype = get_u8(p, kOffDtype);
  if (!is_valid_dtype_code(dtype)) return DecodeError::bad_dtype;
  d.dtype = static_cast<Dtype>(dtype);

  const std::uint8_t op = get_u8(p, kOffOp);
  if (!is_valid_op_code(op)) return DecodeError::bad_op;
  d.op = static_cast<ReduceOp>(op);

  d.flags = get_u8(p, kOffFlags);
  if ((d.flags & ~kKnownFlags) != 0) return DecodeError::bad_flags;
  if ((d.flags & (kFlagIdentity | kFlagHeaderOnly)) != 0 && !is_element_type(d.type))
    return DecodeError::bad_flags;

  if (is_element_type(d.type) && !op_supported(d.op, d.dtype)) return DecodeError::bad_pair;

  d.attempt_tag = get_u8(p, kOffAttemptTag);
  d.child = get_u16(p, kOffChild);
  d.job = get_u32(p, kOffJob);
  d.key_tag = get_u32(p, kOffKeyTag);
  d.tree = get_u16(p, kOffTree);
  const std::uint16_t slot = get_u16(p, kOffSlot);
  d.shadow = (slot & kShadowBit) != 0;
  d.slot = static_cast<std::uint16_t>(slot & kMaxSlot);
  d.sequence = get_u32(p, kOffSequence);
  d.count = get_u32(p, kOffCount);
  d.checksum = get_u32(p, kOffChecksum);

  // An identity chunk carries nothing but must still fit a packet.
  if (d.chunk_bytes() > kMaxPayloadBytes) return DecodeError::bad_count;
  const std::size_t body = d.payload_bytes();
  const std::size_t available = in.size() - kHeaderBytes;
  if (available < body) return DecodeError::truncated;
  if (available > body) return DecodeError::bad_count;

  const auto header_bytes = in.first(kHeaderBytes);
  const auto body_bytes = in.subspan(kHeaderBytes, body);
  if (checksum(header_bytes, body_bytes) != d.checksum) return DecodeError::bad_checksum;

  h = d;
  payload = body_bytes;
  return DecodeError::none;
}

}  // namespace inca::wire
