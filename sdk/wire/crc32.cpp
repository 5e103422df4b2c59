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

// The fold constants: x^(d+32) and x^(d-32) mod P(x), bit-reflected and
// shifted left by one as in the paper, for a fold over d bits (k1..k4), then
// k5 and the Barrett pair (P(x) and floor(x^64 / P(x))).
alignas(16) constexpr std::uint64_t kFold512[] = {0x0154442bd4, 0x01c6e41596};
alignas(16) constexpr std::uint64_t kFold384[] = {0x003db1ecdc, 0x0174359406};
alignas(16) constexpr std::uint64_t kFold256[] = {0x00f1da05aa, 0x015a546366};
alignas(16) constexpr std::uint64_t kFold128[] = {0x01751997d0, 0x00ccaa009e};
alignas(16) constexpr std::uint64_t kFold64[] = {0x0163cd6124, 0x0000000000};
alignas(16) constexpr std::uint64_t kBarrett[] = {0x01db710641, 0x01f7011641};

// Reduces four 128-bit lanes (the state of 64 consecutive bytes) and then
// any remaining whole 16-byte blocks to the 32-bit remainder.
INCA_CLMUL_TARGET std::uint32_t reduce_lanes(__m128i x1, __m128i x2, __m128i x3, __m128i x4,
                                             const std::byte* buf, std::size_t size) {
  // The four lanes into one (each moved forward to the last, in parallel),
  // then any remaining 16-byte blocks.
  __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(kFold128));
  x4 = fold(x3, x4, k);
  x4 = fold(x2, x4, _mm_load_si128(reinterpret_cast<const __m128i*>(kFold256)));
  x1 = fold(x1, x4, _mm_load_si128(reinterpret_cast<const __m128i*>(kFold384)));
  while (size >= 16) {
    x1 = fold(x1, load(buf), k);
    buf += 16;
    size -= 16;
  }
  // 128 -> 64 bits.
  const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
  __m128i x2r = _mm_clmulepi64_si128(x1, k, 0x10);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2r);
  k = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(kFold64));
  x2r = _mm_srli_si128(x1, 4);
  x1 = _mm_and_si128(x1, mask32);
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, k, 0x00), x2r);
  // Barrett reduction to 32 bits.
  k = _mm_load_si128(reinterpret_cast<const __m128i*>(kBarrett));
  x2r = _mm_and_si128(x1, mask32);
  x2r = _mm_clmulepi64_si128(x2r, k, 0x10);
  x2r = _mm_and_si128(x2r, mask32);
  x2r = _mm_clmulepi64_si128(x2r, k, 0x00);
  x1 = _mm_xor_si128(x1, x2r);
  return static_cast<std::uint32_t>(_mm_extract_epi32(x1, 1));
}

// Folds `size` bytes (a multiple of 16, at least 64) into the bit-reflected,
// pre-inverted CRC `crc` and returns the reduced 32-bit remainder: four
// independent 128-bit lanes, each folded 512 bits forward per step.
INCA_CLMUL_TARGET std::uint32_t clmul_fold(std::uint32_t crc, const std::byte* buf,
                                           std::size_t size) {
  __m128i x1 = _mm_xor_si128(load(buf), _mm_cvtsi32_si128(static_cast<int>(crc)));
  __m128i x2 = load(buf + 16);
  __m128i x3 = load(buf + 32);
  __m128i x4 = load(buf + 48);
  buf += 64;
  size -= 64;
  const __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(kFold512));
  while (size >= 64) {
    x1 = fold(x1, load(buf), k);
    x2 = fold(x2, load(buf + 16), k);
    x3 = fold(x3, load(buf + 32), k);
    x4 = fold(x4, load(buf + 48), k);
    buf += 64;
    size -= 64;
  }
  return reduce_lanes(x1, x2, x3, x4, buf, size);
}

// The same folding with 512-bit registers (VPCLMULQDQ, AVX-512): a register
// holds the four lanes of clmul_fold, and four registers (256 bytes) are
// folded 2048 bits forward per step, so that the carry-less multiplies of
// independent registers overlap. They are then folded into one register
// (by 1536, 1024 and 512 bits), which takes the remaining 64-byte blocks.
#define INCA_VPCLMUL_TARGET __attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.1")))
constexpr std::size_t kMinVpclmulBytes = 256;
// The 512-bit fold constants, repeated for each of a register's four lanes.
alignas(64) constexpr std::uint64_t kFold2048x4[] = {0x011542778a, 0x01322d1430, 0x011542778a,
                                                     0x01322d1430, 0x011542778a, 0x01322d1430,
                                                     0x011542778a, 0x01322d1430};
alignas(64) constexpr std::uint64_t kFold1536x4[] = {0x01821d8bc0, 0x012e958ac4, 0x01821d8bc0,
                                                     0x012e958ac4, 0x01821d8bc0, 0x012e958ac4,
                                                     0x01821d8bc0, 0x012e958ac4};
alignas(64) constexpr std::uint64_t kFold1024x4[] = {0x01e88ef372, 0x014a7fe880, 0x01e88ef372,
                                                     0x014a7fe880, 0x01e88ef372, 0x014a7fe880,
                                                     0x01e88ef372, 0x014a7fe880};
alignas(64) constexpr std::uint64_t kFold512x4[] = {0x0154442bd4, 0x01c6e41596, 0x0154442bd4,
                                                    0x01c6e41596, 0x0154442bd4, 0x01c6e41596,
                                                    0x0154442bd4, 0x01c6e41596};

INCA_VPCLMUL_TARGET inline __m512i load512(const std::byte* p) {
  return _mm512_loadu_si512(reinterpret_cast<const void*>(p));
}

INCA_VPCLMUL_TARGET inline __m512i fold512(__m512i acc, __m512i next, __m512i k) {
  const __m512i lo = _mm512_clmulepi64_epi128(acc, k, 0x00);
  const __m512i hi = _mm512_clmulepi64_epi128(acc, k, 0x11);
  return _mm512_ternarylogic_epi64(lo, hi, next, 0x96);  // lo ^ hi ^ next
}

// Folds the 256 bytes at `first` and then `size` bytes at `buf` (a multiple
// of 16) into the bit-reflected, pre-inverted CRC `crc`.
INCA_VPCLMUL_TARGET std::uint32_t vpclmul_fold(std::uint32_t crc, const std::byte* first,
                                               const std::byte* buf, std::size_t size) {
  // (GCC 12's _mm512_broadcast_i32x4 and _mm512_extracti32x4_epi32 trip
  // -Wuninitialized inside its own headers, so constants and lanes go
  // through memory.)
  const __m512i k2048 = _mm512_load_si512(kFold2048x4);
  const __m512i k512 = _mm512_load_si512(kFold512x4);
  alignas(64) std::uint32_t initial[16] = {crc};
  __m512i z0 = _mm512_xor_si512(load512(first), _mm512_load_si512(initial));
  __m512i z1 = load512(first + 64);
  __m512i z2 = load512(first + 128);
  __m512i z3 = load512(first + 192);
  while (size >= 256) {
    z0 = fold512(z0, load512(buf), k2048);
    z1 = fold512(z1, load512(buf + 64), k2048);
    z2 = fold512(z2, load512(buf + 128), k2048);
    z3 = fold512(z3, load512(buf + 192), k2048);
    buf += 256;
    size -= 256;
  }
  // The four registers into the last, each moved forward in parallel.
  z3 = fold512(z2, z3, k512);
  z3 = fold512(z1, z3, _mm512_load_si512(kFold1024x4));
  z3 = fold512(z0, z3, _mm512_load_si512(kFold1536x4));
  while (size >= 64) {
    z3 = fold512(z3, load512(buf), k512);
    buf += 64;
    size -= 64;
  }
  alignas(64) __m128i lanes[4];
  _mm512_store_si512(lanes, z3);
  return reduce_lanes(lanes[0], lanes[1], lanes[2], lanes[3], buf, size);
}

bool cpu_has_vpclmul() {
  static const bool has = __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("vpclmulqdq") &&
                          __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  return has;
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
    crc = n >= kMinVpclmulBytes && cpu_has_vpclmul()
              ? ~vpclmul_fold(~crc, p, p + kMinVpclmulBytes, folded - kMinVpclmulBytes)
              : ~clmul_fold(~crc, p, folded);
    p += folded;
    n -= folded;
  }
#endif
  return zlib_crc32(crc, p, n);
}

std::uint32_t crc32(std::uint32_t crc, std::span<const std::byte> first,
                    std::span<const std::byte> rest) {
#ifdef INCA_CRC32_CLMUL
  if (first.size() == kMinVpclmulBytes && rest.size() >= 16 && cpu_has_vpclmul()) {
    const std::size_t folded = rest.size() & ~std::size_t{15};
    crc = ~vpclmul_fold(~crc, first.data(), rest.data(), folded);
    return zlib_crc32(crc, rest.data() + folded, rest.size() - folded);
  }
#endif
  return crc32(crc32(crc, first), rest);
}

}  // namespace inca::wire
