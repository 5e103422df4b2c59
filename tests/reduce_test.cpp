// Reduction kernels and 16-bit float conversions against scalar references
// written here from the documented rules (reduce.hpp), not from the kernels:
// integers wrap modulo 2^bits, float min/max propagate NaN and keep the first
// operand on ties, logical ops yield 1/0, and f16/bf16 steps are "widen to f32,
// apply, round back to nearest even". The 16-bit references decode and encode
// with ldexp/nearbyint in double, so they share no bit tricks with half.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "inca/dtype.hpp"
#include "inca/reduce.hpp"

namespace inca {
namespace {

// ---- 16-bit float reference, parameterised by mantissa width ----------------
// f16: 10 mantissa / 5 exponent bits; bf16: 7 / 8. Both are 16 bits wide.
constexpr int kF16Mant = 10;
constexpr int kBf16Mant = 7;

template <int M>
struct Fmt {
  static constexpr int kExpBits = 15 - M;
  static constexpr int kBias = (1 << (kExpBits - 1)) - 1;
  static constexpr std::uint32_t kExpMax = (1u << kExpBits) - 1;
  static constexpr std::uint16_t kInf = static_cast<std::uint16_t>(kExpMax << M);
};

template <int M>
bool half_is_nan(std::uint16_t h) {
  return ((h >> M) & Fmt<M>::kExpMax) == Fmt<M>::kExpMax && (h & ((1u << M) - 1)) != 0;
}

// Magnitude of a pattern read as if the all-ones exponent were an ordinary
// binade, so the pattern after the largest finite one evaluates to 2^(emax+1).
template <int M>
double half_magnitude(std::uint16_t h) {
  const int e = static_cast<int>((h >> M) & Fmt<M>::kExpMax);
  const double m = h & ((1u << M) - 1);
  if (e == 0) return std::ldexp(m, 1 - Fmt<M>::kBias - M);
  return std::ldexp(m + std::ldexp(1.0, M), e - Fmt<M>::kBias - M);
}

template <int M>
float ref_widen(std::uint16_t h) {
  const bool neg = (h & 0x8000u) != 0;
  if (half_is_nan<M>(h)) return std::numeric_limits<float>::quiet_NaN();
  double v = ((h >> M) & Fmt<M>::kExpMax) == Fmt<M>::kExpMax
                 ? std::numeric_limits<double>::infinity()
                 : half_magnitude<M>(h & 0x7fffu);
  return static_cast<float>(neg ? -v : v);
}

// value = q * 2^(e - bias - M) with e the binade (clamped to the subnormal
// one); the encoding is then ((e + bias) << M) + q - 2^M for both normals and
// subnormals, and a carry out of the mantissa lands in the exponent by itself.
template <int M>
std::uint16_t ref_narrow(float f) {
  const std::uint16_t sign = std::signbit(f) ? 0x8000u : 0u;
  if (std::isnan(f)) return static_cast<std::uint16_t>(sign | Fmt<M>::kInf | (1u << (M - 1)));
  const double a = std::fabs(static_cast<double>(f));
  if (std::isinf(a)) return static_cast<std::uint16_t>(sign | Fmt<M>::kInf);
  const int emin = 1 - Fmt<M>::kBias;
  const int e = a == 0 ? emin : std::max(std::ilogb(a), emin);
  const double q = std::nearbyint(std::ldexp(a, M - e));  // ties to even (default mode)
  const double bits = std::ldexp(static_cast<double>(e + Fmt<M>::kBias), M) + q - std::ldexp(1, M);
  if (bits >= Fmt<M>::kInf) return static_cast<std::uint16_t>(sign | Fmt<M>::kInf);
  return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(bits));
}

// ---- Scalar reference ops ---------------------------------------------------
// Logical ops: any non-zero (NaN included, -0 excluded) is true; result 1 or 0.
template <typename T>
T ref_logical(ReduceOp op, T a, T b) {
  const bool x = a != 0, y = b != 0;
  const bool r = op == ReduceOp::land ? (x && y) : op == ReduceOp::lor ? (x || y) : (x != y);
  return r ? 1 : 0;
}

template <typename T>
T ref_int(ReduceOp op, T a, T b) {
  const auto ua = static_cast<std::uint64_t>(a);  // sign-extends: same residue mod 2^bits
  const auto ub = static_cast<std::uint64_t>(b);
  if (op == ReduceOp::sum) return static_cast<T>(ua + ub);
  if (op == ReduceOp::prod) return static_cast<T>(ua * ub);
  if (op == ReduceOp::min) return a <= b ? a : b;
  if (op == ReduceOp::max) return a >= b ? a : b;
  if (op == ReduceOp::band) return static_cast<T>(ua & ub);
  if (op == ReduceOp::bor) return static_cast<T>(ua | ub);
  if (op == ReduceOp::bxor) return static_cast<T>(ua ^ ub);
  return ref_logical(op, a, b);
}

template <typename T>
T ref_float(ReduceOp op, T a, T b) {
  if (op == ReduceOp::sum) return a + b;
  if (op == ReduceOp::prod) return a * b;
  if (op != ReduceOp::min && op != ReduceOp::max) return ref_logical(op, a, b);
  if (std::isnan(a)) return a;
  if (std::isnan(b)) return b;
  if (a == b) return a;  // -0 vs +0: the first operand wins
  return (op == ReduceOp::min) == (a < b) ? a : b;
}

// ---- Per-dtype harness: random fill, reference, NaN test on raw bytes -------
using Rng = std::mt19937_64;

template <typename T>
T random_int(Rng& rng) {
  const unsigned pick = rng() % 8;
  if (pick < 2) return 0;                                                 // zero/non-zero mixes
  if (pick == 2) return static_cast<T>(static_cast<int>(rng() % 7) - 3);  // small, negative too
  return static_cast<T>(rng());  // full range: sums and products overflow
}

template <typename T>
T random_float(Rng& rng) {
  const unsigned pick = rng() % 16;
  const T sign = (rng() & 1) ? T(-1) : T(1);
  if (pick < 4) return sign * T(0);
  if (pick == 4) {
    const T specials[] = {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                          std::numeric_limits<T>::denorm_min(), std::numeric_limits<T>::max(),
                          std::numeric_limits<T>::min()};
    return sign * specials[rng() % std::size(specials)];
  }
  const double mant = 1.0 + static_cast<double>(rng() % (1u << 20)) / (1u << 20);
  const int exp = static_cast<int>(rng() % 61) - 30 + (pick == 5 ? 90 : 0);  // some overflow
  return sign * static_cast<T>(std::ldexp(mant, exp));
}

std::uint16_t random_half_bits(Rng& rng) {
  if (rng() % 4 == 0) return (rng() & 1) ? 0x8000u : 0u;
  return static_cast<std::uint16_t>(rng());  // every class: NaN, inf, subnormal, normal
}

// A codec gives, for one dtype, its element type, a random element, the
// reference op and a NaN test; Harness erases it so tests can loop over Dtype.
template <typename T>
struct Native {
  using Elem = T;
  static constexpr bool kFloat = std::is_floating_point_v<T>;
  static T random(Rng& rng) {
    if constexpr (kFloat) return random_float<T>(rng);
    return random_int<T>(rng);
  }
  static T apply(ReduceOp op, T a, T b) {
    if constexpr (kFloat) return ref_float(op, a, b);
    return ref_int(op, a, b);
  }
  static bool is_nan(T v) {
    if constexpr (kFloat) return std::isnan(v);
    return false;
  }
};

template <int M>
struct Half {
  using Elem = std::uint16_t;
  static Elem random(Rng& rng) { return random_half_bits(rng); }
  static Elem apply(ReduceOp op, Elem a, Elem b) {
    return ref_narrow<M>(ref_float<float>(op, ref_widen<M>(a), ref_widen<M>(b)));
  }
  static bool is_nan(Elem v) { return half_is_nan<M>(v); }
};

template <typename E>
E load(const unsigned char* p, std::size_t i) {
  E v;
  std::memcpy(&v, p + i * sizeof(E), sizeof(E));
  return v;
}

template <typename E>
void store(unsigned char* p, std::size_t i, E v) {
  std::memcpy(p + i * sizeof(E), &v, sizeof(E));
}

struct Harness {
  std::size_t size;
  void (*fill)(Rng&, unsigned char*, std::size_t n);
  void (*ref)(ReduceOp, const unsigned char* a, const unsigned char* b, unsigned char* out,
              std::size_t n);
  bool (*is_nan)(const unsigned char*);
};

template <typename C>
Harness harness() {
  using E = typename C::Elem;
  return {
      sizeof(E),
      [](Rng& rng, unsigned char* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) store(p, i, C::random(rng));
      },
      [](ReduceOp op, const unsigned char* a, const unsigned char* b, unsigned char* out,
         std::size_t n) {
        for (std::size_t i = 0; i < n; ++i)
          store(out, i, C::apply(op, load<E>(a, i), load<E>(b, i)));
      },
      [](const unsigned char* p) { return C::is_nan(load<E>(p, 0)); },
  };
}

Harness harness_for(Dtype d) {
  const std::pair<Dtype, Harness> table[] = {
      {Dtype::i8, harness<Native<std::int8_t>>()},   {Dtype::u8, harness<Native<std::uint8_t>>()},
      {Dtype::i16, harness<Native<std::int16_t>>()}, {Dtype::u16, harness<Native<std::uint16_t>>()},
      {Dtype::i32, harness<Native<std::int32_t>>()}, {Dtype::u32, harness<Native<std::uint32_t>>()},
      {Dtype::i64, harness<Native<std::int64_t>>()}, {Dtype::u64, harness<Native<std::uint64_t>>()},
      {Dtype::f16, harness<Half<kF16Mant>>()},       {Dtype::bf16, harness<Half<kBf16Mant>>()},
      {Dtype::f32, harness<Native<float>>()},        {Dtype::f64, harness<Native<double>>()},
  };
  for (const auto& [dtype, h] : table)
    if (dtype == d) return h;
  ADD_FAILURE() << "no harness for dtype code " << static_cast<int>(d);
  return table[0].second;
}

// ---- Pairwise kernel sweep over every supported (dtype, op) -----------------
struct Pair {
  Dtype dtype;
  ReduceOp op;
};

void PrintTo(const Pair& p, std::ostream* os) {
  *os << to_string(p.op) << " on " << to_string(p.dtype);
}

std::vector<Pair> supported_pairs() {
  std::vector<Pair> pairs;
  for (const Dtype d : all_dtypes())
    for (const ReduceOp op : all_ops())
      if (op_supported(op, d)) pairs.push_back({d, op});
  return pairs;
}

class ReduceKernel : public ::testing::TestWithParam<Pair> {
 protected:
  static constexpr std::size_t kGuard = 16;  // elements past count that must stay untouched
  static constexpr unsigned char kSentinel = 0xA5;

  // Exact byte comparison, except that two NaNs of the element type match.
  void expect_same(const std::vector<unsigned char>& got, const std::vector<unsigned char>& want,
                   std::size_t count, const char* form) {
    const Harness& h = harness_;
    int reported = 0;
    for (std::size_t i = 0; i < count && reported < 5; ++i) {
      const unsigned char* g = got.data() + i * h.size;
      const unsigned char* w = want.data() + i * h.size;
      if (std::memcmp(g, w, h.size) == 0 || (h.is_nan(g) && h.is_nan(w))) continue;
      ++reported;
      ADD_FAILURE() << form << ": element " << i << " of " << count << " differs";
    }
    for (std::size_t i = count * h.size; i < got.size(); ++i) {
      if (got[i] != kSentinel) {
        ADD_FAILURE() << form << ": wrote past count at byte " << i;
        break;
      }
    }
  }

  std::vector<unsigned char> buffer(std::size_t count) const {
    return std::vector<unsigned char>((count + kGuard) * harness_.size, kSentinel);
  }

  Harness harness_ = harness_for(GetParam().dtype);
};

TEST_P(ReduceKernel, MatchesScalarReferenceBitExact) {
  const auto [dtype, op] = GetParam();
  Rng rng(0x1ca0u + static_cast<unsigned>(dtype) * 31u + static_cast<unsigned>(op));
  for (const std::size_t count : {0, 1, 7, 255, 256, 257, 1000}) {
    SCOPED_TRACE("count " + std::to_string(count));
    auto a = buffer(count);
    auto b = buffer(count);
    harness_.fill(rng, a.data(), count);
    harness_.fill(rng, b.data(), count);
    auto want = buffer(count);
    harness_.ref(op, a.data(), b.data(), want.data(), count);

    auto self_want = buffer(count);  // a op a
    harness_.ref(op, a.data(), a.data(), self_want.data(), count);

    // Each form writes into a fresh copy, so a and b stay pristine.
    using Buf = std::vector<unsigned char>;
    auto run = [&](const char* form, Buf buf, const Buf& expected, auto call) {
      call(buf.data());
      expect_same(buf, expected, count, form);
    };
    const auto* pa = a.data();
    const auto* pb = b.data();
    run("reduce_into", a, want, [&](auto* p) { reduce_into(p, pb, count, dtype, op); });
    run("reduce_pair", buffer(count), want,
        [&](auto* p) { reduce_pair(p, pa, pb, count, dtype, op); });
    run("reduce_pair out==a", a, want, [&](auto* p) { reduce_pair(p, p, pb, count, dtype, op); });
    run("reduce_pair out==b", b, want, [&](auto* p) { reduce_pair(p, pa, p, count, dtype, op); });
    run("reduce_into acc==in", a, self_want, [&](auto* p) { reduce_into(p, p, count, dtype, op); });
    run("reduce_pair a==b", buffer(count), self_want,
        [&](auto* p) { reduce_pair(p, pa, pa, count, dtype, op); });
  }
}

INSTANTIATE_TEST_SUITE_P(ReduceAllPairs, ReduceKernel, ::testing::ValuesIn(supported_pairs()),
                         [](const ::testing::TestParamInfo<Pair>& info) {
                           return std::string(to_string(info.param.dtype)) + "_" +
                                  std::string(to_string(info.param.op));
                         });

TEST(ReduceKernelSweep, CoversEverySupportedPair) {
  // 8 integer dtypes x 10 ops + 4 float dtypes x 7 ops.
  EXPECT_EQ(supported_pairs().size(), 8u * 10u + 4u * 7u);
}

// ---- Literal spot checks of the documented rules ----------------------------
template <typename T>
T reduce_one(Dtype d, ReduceOp op, T a, T b) {
  reduce_into(&a, &b, 1, d, op);
  return a;
}

TEST(ReduceRules, IntegerWrapModulo2ToTheBits) {
  EXPECT_EQ(reduce_one<std::int8_t>(Dtype::i8, ReduceOp::sum, 127, 1), -128);
  EXPECT_EQ(reduce_one<std::uint8_t>(Dtype::u8, ReduceOp::sum, 255, 1), 0);
  EXPECT_EQ(reduce_one<std::int16_t>(Dtype::i16, ReduceOp::prod, -32768, -1), -32768);
  EXPECT_EQ(reduce_one<std::uint16_t>(Dtype::u16, ReduceOp::prod, 65535, 65535), 1);
  EXPECT_EQ(reduce_one<std::int32_t>(Dtype::i32, ReduceOp::prod, INT32_MIN, -1), INT32_MIN);
  EXPECT_EQ(reduce_one<std::int64_t>(Dtype::i64, ReduceOp::sum, INT64_MAX, 1), INT64_MIN);
  EXPECT_EQ(reduce_one<std::uint64_t>(Dtype::u64, ReduceOp::prod, 1ull << 63, 2), 0u);
}

TEST(ReduceRules, FloatMinMaxPropagateNaNFromEitherSide) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const ReduceOp op : {ReduceOp::min, ReduceOp::max}) {
    EXPECT_TRUE(std::isnan(reduce_one<float>(Dtype::f32, op, nan, 1.0f)));
    EXPECT_TRUE(std::isnan(reduce_one<float>(Dtype::f32, op, 1.0f, nan)));
    EXPECT_TRUE(std::isnan(reduce_one<double>(Dtype::f64, op, 1.0, std::nan(""))));
    const std::uint16_t h_nan = 0x7e00, h_one = 0x3c00;
    EXPECT_TRUE(half_is_nan<kF16Mant>(reduce_one<std::uint16_t>(Dtype::f16, op, h_one, h_nan)));
    const std::uint16_t b_nan = 0x7fc0, b_one = 0x3f80;
    EXPECT_TRUE(half_is_nan<kBf16Mant>(reduce_one<std::uint16_t>(Dtype::bf16, op, b_one, b_nan)));
  }
}

TEST(ReduceRules, FloatMinMaxKeepFirstOperandOnSignedZeroTie) {
  EXPECT_FALSE(std::signbit(reduce_one<float>(Dtype::f32, ReduceOp::min, 0.0f, -0.0f)));
  EXPECT_TRUE(std::signbit(reduce_one<float>(Dtype::f32, ReduceOp::min, -0.0f, 0.0f)));
  EXPECT_TRUE(std::signbit(reduce_one<double>(Dtype::f64, ReduceOp::max, -0.0, 0.0)));
}

TEST(ReduceRules, LogicalOpsYieldOneOrZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(reduce_one<float>(Dtype::f32, ReduceOp::land, nan, 2.5f), 1.0f);   // NaN is true
  EXPECT_EQ(reduce_one<float>(Dtype::f32, ReduceOp::lor, -0.0f, 0.0f), 0.0f);  // -0 is false
  EXPECT_EQ(reduce_one<std::int8_t>(Dtype::i8, ReduceOp::lxor, -5, 0), 1);
  EXPECT_EQ(reduce_one<std::uint16_t>(Dtype::f16, ReduceOp::lor, 0x8000, 0x0001), 0x3c00);
  EXPECT_EQ(reduce_one<std::uint16_t>(Dtype::bf16, ReduceOp::land, 0x3f80, 0x0000), 0x0000);
}

TEST(ReduceRules, HalfStepsRoundToNearestEven) {
  // 2048 + 1 is a tie between 2048 and 2050 in f16: even mantissa 2048 wins.
  EXPECT_EQ(reduce_one<std::uint16_t>(Dtype::f16, ReduceOp::sum, 0x6800, 0x3c00), 0x6800);
  // 2050 + 1 ties between 2050 (odd) and 2052 (even).
  EXPECT_EQ(reduce_one<std::uint16_t>(Dtype::f16, ReduceOp::sum, 0x6801, 0x3c00), 0x6802);
  // 65504 + 16 = 65520 ties to even, which is the overflow to inf.
  EXPECT_EQ(reduce_one<std::uint16_t>(Dtype::f16, ReduceOp::sum, 0x7bff, 0x4c00), 0x7c00);
  // bf16: 256 + 1 ties to 256; 258 + 1 ties to 260.
  EXPECT_EQ(reduce_one<std::uint16_t>(Dtype::bf16, ReduceOp::sum, 0x4380, 0x3f80), 0x4380);
  EXPECT_EQ(reduce_one<std::uint16_t>(Dtype::bf16, ReduceOp::sum, 0x4381, 0x3f80), 0x4382);
}

// ---- 16-bit conversions -----------------------------------------------------
bool same_float(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;  // tells -0 from +0
}

// Every rounding boundary of the 16-bit format: each finite value, the exact
// midpoint to the next pattern up (ties) and the floats either side of it.
template <int M>
std::vector<float> boundary_inputs() {
  std::vector<float> in;
  for (std::uint32_t h = 0; h < Fmt<M>::kInf; ++h) {
    const double lo = half_magnitude<M>(static_cast<std::uint16_t>(h));
    const double hi = half_magnitude<M>(static_cast<std::uint16_t>(h + 1));
    const auto mid = static_cast<float>((lo + hi) / 2);  // exact: one more bit than the format
    for (const float f :
         {static_cast<float>(lo), mid, std::nextafter(mid, 0.0f), std::nextafter(mid, FLT_MAX)}) {
      in.push_back(f);
      in.push_back(-f);
    }
  }
  for (const float f : {FLT_MAX, std::numeric_limits<float>::infinity(), FLT_MIN,
                        std::numeric_limits<float>::denorm_min(), 1e-30f, 1e30f})
    for (const float s : {f, -f}) in.push_back(s);
  Rng rng(0xb16);
  for (int i = 0; i < (1 << 18); ++i) {
    const auto bits = static_cast<std::uint32_t>(rng());
    float f;
    std::memcpy(&f, &bits, sizeof f);
    in.push_back(f);
  }
  return in;
}

template <int M>
void check_widen_and_round_trip(float (*widen)(std::uint16_t), std::uint16_t (*narrow)(float)) {
  for (std::uint32_t bits = 0; bits <= 0xffffu; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    const float f = widen(h);
    ASSERT_TRUE(same_float(f, ref_widen<M>(h))) << std::hex << "widen 0x" << bits;
    const std::uint16_t back = narrow(f);
    if (!half_is_nan<M>(h)) {
      ASSERT_EQ(back, h) << std::hex << "round trip 0x" << bits;
      continue;
    }
    ASSERT_TRUE(half_is_nan<M>(back)) << std::hex << "NaN 0x" << bits << " -> 0x" << back;
    ASSERT_EQ(back & 0x8000u, h & 0x8000u) << std::hex << "NaN sign 0x" << bits;
    const bool quiet = (h & (1u << (M - 1))) != 0;
    ASSERT_TRUE(!quiet || back == h) << std::hex << "quiet NaN 0x" << bits << " -> 0x" << back;
  }
}

template <int M>
void check_narrow(std::uint16_t (*narrow)(float), std::uint16_t (*want_fn)(float)) {
  for (const float f : boundary_inputs<M>()) {
    const std::uint16_t got = narrow(f);
    const std::uint16_t want = want_fn(f);
    if (half_is_nan<M>(want)) {
      ASSERT_TRUE(half_is_nan<M>(got)) << f;
    } else {
      ASSERT_EQ(got, want) << std::hexfloat << f;
    }
  }
}

TEST(ReduceHalfF16, ExhaustiveWidenAndRoundTrip) {
  check_widen_and_round_trip<kF16Mant>(f16_to_f32, f32_to_f16);
}

TEST(ReduceHalfF16, NarrowMatchesReferenceAtEveryBoundary) {
  check_narrow<kF16Mant>(f32_to_f16, ref_narrow<kF16Mant>);
}

TEST(ReduceHalfF16, NarrowLiterals) {
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);          // tie above max -> inf
  EXPECT_EQ(f32_to_f16(65519.99f), 0x7bff);         // just below the tie -> max
  EXPECT_EQ(f32_to_f16(-1e10f), 0xfc00);            // overflow keeps sign
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0);  // tie to even at the bottom -> +0
  EXPECT_EQ(f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 ulp ties to 2
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16(-FLT_MIN), 0x8000);                      // underflow keeps sign
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie, even stays
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(3.0f, -11)), 0x3c02);  // tie, odd rounds up
}

#ifdef __FLT16_MAX__
// The compiler's own _Float16 (libgcc soft-float on x86-64 without AVX-512
// FP16) is an implementation independent of both half.cpp and the reference.
std::uint16_t compiler_f16(float f) {
  const auto h = static_cast<_Float16>(f);
  return load<std::uint16_t>(reinterpret_cast<const unsigned char*>(&h), 0);
}

TEST(ReduceHalfF16, AgreesWithCompilerFloat16) {
  for (std::uint32_t bits = 0; bits <= 0xffffu; ++bits) {
    const auto b16 = static_cast<std::uint16_t>(bits);
    const float want =
        static_cast<float>(load<_Float16>(reinterpret_cast<const unsigned char*>(&b16), 0));
    ASSERT_TRUE(same_float(f16_to_f32(b16), want)) << std::hex << bits;
  }
  check_narrow<kF16Mant>(f32_to_f16, compiler_f16);
}
#endif

TEST(ReduceHalfBf16, ExhaustiveWidenAndRoundTrip) {
  check_widen_and_round_trip<kBf16Mant>(bf16_to_f32, f32_to_bf16);
}

TEST(ReduceHalfBf16, NarrowMatchesReferenceAtEveryBoundary) {
  check_narrow<kBf16Mant>(f32_to_bf16, ref_narrow<kBf16Mant>);
}

TEST(ReduceHalfBf16, NarrowLiterals) {
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie, even stays
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(3.0f, -8)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(f32_to_bf16(FLT_MAX), 0x7f80);                      // rounds past max -> inf
  EXPECT_EQ(f32_to_bf16(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::denorm_min()), 0x0000);
}

}  // namespace
}  // namespace inca
