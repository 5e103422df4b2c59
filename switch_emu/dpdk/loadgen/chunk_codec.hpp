// The load generator's fast path for inca packets. Encoding a contribution
// with wire::encode costs a CRC-32 over the whole payload, and so does
// checking a result with wire::decode; done per packet, that makes the load
// generator slower than the switch it measures. Payload values repeat (host
// i sends value(i, seq mod 256) in every element), so their CRCs are computed
// once, and each packet only needs the CRC of its 32 header bytes, combined
// with the payload's CRC by zlib's crc32_combine_op. The bytes on the wire
// are exactly what wire::encode produces (a test checks that).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "wire/header.hpp"

namespace inca::dpdk_switch {

class ChunkCodec {
 public:
  static constexpr std::uint32_t kValues = 256;

  /// `hosts` hosts sending i32 sum chunks of `payload_bytes` on `tree`.
  ChunkCodec(std::size_t hosts, std::uint32_t payload_bytes, wire::Header base);

  /// Host `host`'s contribution for chunk `seq` (slot seq % window, the
  /// shadow set alternating per window) into `out` (header + payload bytes).
  void write_contribution(std::size_t host, std::uint32_t seq, std::uint32_t window,
                          std::span<std::byte> out) const;
  /// True when `packet` (header + payload) is the exact result of chunk
  /// `seq`: every header byte and every payload element as expected, and a
  /// checksum that matches.
  bool is_exact_result(std::span<const std::byte> packet, std::uint32_t seq,
                       std::uint32_t window) const;

  std::size_t packet_bytes() const { return wire::kHeaderBytes + payload_bytes_; }
  /// The header of host `host`'s contribution (or, with child 0, of the
  /// result) for chunk `seq`.
  wire::Header header(wire::PacketType type, std::uint16_t child, std::uint32_t seq,
                      std::uint32_t window) const;
  static std::int32_t value(std::size_t host, std::uint32_t seq) {
    return static_cast<std::int32_t>(host + 1 + (seq % kValues));
  }

 private:
  void write(const wire::Header& h, const std::vector<std::byte>& payload,
             std::uint32_t payload_crc, std::span<std::byte> out) const;

  std::uint32_t payload_bytes_;
  wire::Header base_;
  unsigned long combine_op_;
  std::vector<std::vector<std::vector<std::byte>>> contributions_;  // [host][value]
  std::vector<std::vector<std::uint32_t>> contribution_crcs_;
  std::vector<std::vector<std::byte>> results_;  // [value]
  std::vector<std::uint32_t> result_crcs_;
};

}  // namespace inca::dpdk_switch
