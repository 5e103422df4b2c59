#include "dpdk/loadgen/chunk_codec.hpp"

#include <zlib.h>

#include <cstring>

namespace inca::dpdk_switch {
namespace {

std::vector<std::byte> filled(std::uint32_t bytes, std::int32_t v) {
  std::vector<std::byte> out(bytes);
  for (std::uint32_t e = 0; e + 4 <= bytes; e += 4) std::memcpy(out.data() + e, &v, 4);
  return out;
}

std::uint32_t crc(std::span<const std::byte> bytes) {
  return static_cast<std::uint32_t>(
      crc32_z(crc32_z(0, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

constexpr std::size_t kChecksumOffset = 28;  // docs/protocol.md

}  // namespace

ChunkCodec::ChunkCodec(std::size_t hosts, std::uint32_t payload_bytes, wire::Header base)
    : payload_bytes_(payload_bytes),
      base_(base),
      combine_op_(crc32_combine_gen(static_cast<z_off_t>(payload_bytes))) {
  base_.dtype = Dtype::i32;
  base_.op = ReduceOp::sum;
  base_.count = payload_bytes / 4;
  contributions_.resize(hosts);
  contribution_crcs_.resize(hosts);
  for (std::size_t h = 0; h < hosts; ++h)
    for (std::uint32_t v = 0; v < kValues; ++v) {
      contributions_[h].push_back(filled(payload_bytes, value(h, v)));
      contribution_crcs_[h].push_back(crc(contributions_[h].back()));
    }
  for (std::uint32_t v = 0; v < kValues; ++v) {
    std::int32_t sum = 0;
    for (std::size_t h = 0; h < hosts; ++h) sum += value(h, v);
    results_.push_back(filled(payload_bytes, sum));
    result_crcs_.push_back(crc(results_.back()));
  }
}

wire::Header ChunkCodec::header(wire::PacketType type, std::uint16_t child, std::uint32_t seq,
                                std::uint32_t window) const {
  wire::Header h = base_;
  h.type = type;
  h.child = child;
  h.slot = static_cast<std::uint16_t>(seq % window);
  h.shadow = ((seq / window) & 1) != 0;
  h.sequence = seq;
  return h;
}

void ChunkCodec::write(const wire::Header& h, const std::vector<std::byte>& payload,
                       std::uint32_t payload_crc, std::span<std::byte> out) const {
  // wire::encode of the header alone (count says 0 payload bytes) lays out
  // the fields; the count and checksum are then set for the real payload.
  wire::Header head = h;
  head.count = 0;
  wire::encode(head, {}, out.first(wire::kHeaderBytes));
  out[24] = static_cast<std::byte>(h.count >> 24);
  out[25] = static_cast<std::byte>(h.count >> 16);
  out[26] = static_cast<std::byte>(h.count >> 8);
  out[27] = static_cast<std::byte>(h.count);
  std::memset(out.data() + kChecksumOffset, 0, 4);
  const std::uint32_t sum = static_cast<std::uint32_t>(
      crc32_combine_op(crc(out.first(wire::kHeaderBytes)), payload_crc, combine_op_));
  for (int i = 0; i < 4; ++i)
    out[kChecksumOffset + i] = static_cast<std::byte>(sum >> (24 - 8 * i));
  if (!payload.empty())  // the result check writes the header alone
    std::memcpy(out.data() + wire::kHeaderBytes, payload.data(), payload.size());
}

void ChunkCodec::write_contribution(std::size_t host, std::uint32_t seq, std::uint32_t window,
                                    std::span<std::byte> out) const {
  const std::uint32_t v = seq % kValues;
  write(header(wire::PacketType::contribution, static_cast<std::uint16_t>(host), seq, window),
        contributions_[host][v], contribution_crcs_[host][v], out);
}

bool ChunkCodec::is_exact_result(std::span<const std::byte> packet, std::uint32_t seq,
                                 std::uint32_t window) const {
  if (packet.size() != packet_bytes()) return false;
  const std::uint32_t v = seq % kValues;
  std::byte want[wire::kHeaderBytes];
  write(header(wire::PacketType::result, 0, seq, window), {}, result_crcs_[v],
        std::span<std::byte>(want, wire::kHeaderBytes));
  return std::memcmp(packet.data(), want, wire::kHeaderBytes) == 0 &&
         std::memcmp(packet.data() + wire::kHeaderBytes, results_[v].data(), payload_bytes_) == 0;
}

}  // namespace inca::dpdk_switch
