// The load generator's precomputed packets are byte for byte what the wire
// codec produces, and its result check accepts exactly the right result.
#include "dpdk/loadgen/chunk_codec.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace inca::dpdk_switch {
namespace {

using Bytes = std::vector<std::byte>;

wire::Header base() {
  wire::Header h;
  h.job = 77;
  h.key_tag = 0x5eed;
  h.tree = 4242;
  h.dtype = Dtype::i32;
  h.op = ReduceOp::sum;
  return h;
}

Bytes reference(wire::PacketType type, std::uint16_t child, std::uint32_t seq, std::uint32_t window,
                std::int32_t value, std::uint32_t payload_bytes) {
  wire::Header h = base();
  h.type = type;
  h.child = child;
  h.slot = static_cast<std::uint16_t>(seq % window);
  h.shadow = ((seq / window) & 1) != 0;
  h.sequence = seq;
  h.count = payload_bytes / 4;
  std::vector<std::int32_t> payload(payload_bytes / 4, value);
  Bytes out(wire::kHeaderBytes + payload_bytes);
  EXPECT_EQ(wire::encode(h, std::as_bytes(std::span(payload)), out), out.size());
  return out;
}

TEST(LoadgenChunkCodec, ContributionsMatchTheWireEncoder) {
  const ChunkCodec codec(3, 256, base());
  for (std::size_t host = 0; host < 3; ++host)
    for (std::uint32_t seq : {0u, 1u, 17u, 255u, 256u, 70000u}) {
      Bytes got(codec.packet_bytes());
      codec.write_contribution(host, seq, 16, got);
      EXPECT_EQ(got, reference(wire::PacketType::contribution, static_cast<std::uint16_t>(host),
                               seq, 16, ChunkCodec::value(host, seq), 256))
          << "host " << host << " seq " << seq;
    }
}

TEST(LoadgenChunkCodec, AcceptsOnlyTheExactResult) {
  const ChunkCodec codec(3, 64, base());
  const std::uint32_t seq = 300;
  const std::int32_t sum =
      ChunkCodec::value(0, seq) + ChunkCodec::value(1, seq) + ChunkCodec::value(2, seq);
  Bytes result = reference(wire::PacketType::result, 0, seq, 8, sum, 64);
  EXPECT_TRUE(codec.is_exact_result(result, seq, 8));
  EXPECT_FALSE(codec.is_exact_result(result, seq + 8, 8));
  EXPECT_FALSE(
      codec.is_exact_result(reference(wire::PacketType::result, 0, seq, 8, sum + 1, 64), seq, 8));
  result[40] ^= std::byte{1};
  EXPECT_FALSE(codec.is_exact_result(result, seq, 8));
  EXPECT_FALSE(codec.is_exact_result(std::span(result).first(40), seq, 8));
}

}  // namespace
}  // namespace inca::dpdk_switch
