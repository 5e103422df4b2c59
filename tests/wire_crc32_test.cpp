// The fast wire CRC-32 equals zlib's crc32 for every length, alignment and
// starting value, so switching implementations never changes a checksum.
#include "wire/crc32.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <vector>

namespace inca::wire {
namespace {

std::uint32_t reference(std::uint32_t crc, const std::byte* p, std::size_t n) {
  return static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(p), n));
}

TEST(WireCrc32, MatchesZlibForEveryLengthAndAlignment) {
  std::mt19937 rng(99);
  std::vector<std::byte> buf(9100);
  for (auto& b : buf) b = static_cast<std::byte>(rng());
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 300; ++n) lengths.push_back(n);
  for (std::size_t n : {1023, 1024, 1025, 1056, 4096, 4127, 9000}) lengths.push_back(n);
  for (std::size_t offset = 0; offset < 16; offset += 3)
    for (std::size_t n : lengths) {
      const std::byte* p = buf.data() + offset;
      for (std::uint32_t start : {0u, 0xffffffffu, 0x12345678u})
        ASSERT_EQ(crc32(start, {p, n}), reference(start, p, n))
            << "length " << n << " offset " << offset << " start " << start;
    }
}

TEST(WireCrc32, ChainsLikeZlib) {
  std::vector<std::byte> buf(2000);
  for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<std::byte>(i * 131 + 7);
  const std::uint32_t whole = reference(0, buf.data(), buf.size());
  for (std::size_t cut : {0, 1, 32, 63, 64, 65, 1000, 1999, 2000}) {
    const std::uint32_t first = crc32(0, std::span(buf).first(cut));
    EXPECT_EQ(crc32(first, std::span(buf).subspan(cut)), whole) << "cut " << cut;
  }
  std::printf("wire crc32 accelerated: %s\n", crc32_is_accelerated() ? "yes" : "no");
}

}  // namespace
}  // namespace inca::wire
