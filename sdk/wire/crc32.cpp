#include "wire/crc32.hpp"

#include <zlib.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define INCA_CRC32_CLMUL 1
#endif

namespace inca::wire {
namespace {

std::uint32_t zlib_crc32(std::uint32_t crc, const std::byte* data, std::size_t size) {
  if (size == 0) return crc;  // zlib treats a null buffer as "reset"
  return static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(data), size));
}

#ifdef INCA_CRC32_CLMUL
// The folding needs at least one 64-byte block and works on 16-byte units.
constexpr std::size_t kMinClmulBytes = 64;

#define INCA_CLMUL_TARGET __attribute__((target("pclmul,sse4.1")))

INCA_CLMUL_TARGET inline __m128i load(const std::byte* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// acc * x^128 + next, reduced: moves `acc` 128 bits forward over `next`
// (k holds the fold constants for that distance).
INCA_CLMUL_TARGET inline __m128i fold(__m128i acc, __m128i next, __m128i k) {
  const __m128i lo = _mm_clmulepi64_si128(acc, k, 0x00);
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(acc, k, 0x11), next), lo);
}

// Folds `size` bytes (a multiple of 16, at least 64) into the bit-reflected,
// pre-inverted CRC `crc` and returns the reduced 32-bit remainder. The
// constants are x^k mod P(x) for the paper's fold distances (k1..k5) and the
// Barrett pair (P(x) and floor(x^64 / P(x))), all bit-reflected.
INCA_CLMUL_TARGET std::uint32_t clmul_fold(std::uint32_t crc, const std::byte* buf,
                                           std::size_t size) {
  alignas(16) static const std::uint64_t k1k2[] = {0x0154442bd4, 0x01c6e41596};
  alignas(16) static const std::uint64_t k3k4[] = {0x01751997d0, 0x00ccaa009e};
  alignas(16) static const std::uint64_t k5k0[] = {0x0163cd6124, 0x0000000000};
  alignas(16) static const std::uint64_t poly[] = {0x01db710641, 0x01f7011641};

  __m128i x1 = _mm_xor_si128(load(buf), _mm_cvtsi32_si128(static_cast<int>(crc)));
  __m128i x2 = load(buf + 16);
  __m128i x3 = load(buf + 32);
  __m128i x4 = load(buf + 48);
  buf += 64;
  size -= 64;
  // Four independent lanes, each folded 512 bits forward per step.
  __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(k1k2));
  while (size >= 64) {
    x1 = fold(x1, load(buf), k);
    x2 = fold(x2, load(buf + 16), k);
    x3 = fold(x3, load(buf + 32), k);
    x4 = fold(x4, load(buf + 48), k);
    buf += 64;
    size -= 64;
  }
  // The four lanes into one, then any remaining 16-byte blocks.
  k = _mm_load_si128(reinterpret_cast<const __m128i*>(k3k4));
  x1 = fold(x1, x2, k);
  x1 = fold(x1, x3, k);
  x1 = fold(x1, x4, k);
  while (size >= 16) {
    x1 = fold(x1, load(buf), k);
    buf += 16;
    size -= 16;
  }
  // 128 -> 64 bits.
  const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
  x2 = _mm_clmulepi64_si128(x1, k, 0x10);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
  k = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(k5k0));
  x2 = _mm_srli_si128(x1, 4);
  x1 = _mm_and_si128(x1, mask32);
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, k, 0x00), x2);
  // Barrett reduction to 32 bits.
  k = _mm_load_si128(reinterpret_cast<const __m128i*>(poly));
  x2 = _mm_and_si128(x1, mask32);
  x2 = _mm_clmulepi64_si128(x2, k, 0x10);
  x2 = _mm_and_si128(x2, mask32);
  x2 = _mm_clmulepi64_si128(x2, k, 0x00);
  x1 = _mm_xor_si128(x1, x2);
  return static_cast<std::uint32_t>(_mm_extract_epi32(x1, 1));
}

bool cpu_has_clmul() {
  static const bool has = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  return has;
}
#endif

}  // namespace

bool crc32_is_accelerated() {
#ifdef INCA_CRC32_CLMUL
  return cpu_has_clmul();
#else
  return false;
#endif
}

std::uint32_t crc32(std::uint32_t crc, std::span<const std::byte> bytes) {
  const std::byte* p = bytes.data();
  std::size_t n = bytes.size();
#ifdef INCA_CRC32_CLMUL
  if (n >= kMinClmulBytes && cpu_has_clmul()) {
    const std::size_t folded = n & ~std::size_t{15};
    crc = ~clmul_fold(~crc, p, folded);
    p += folded;
    n -= folded;
  }
#endif
  return zlib_crc32(crc, p, n);
}

}  // namespace inca::wire
