#include "bench_pattern.hpp"

#include <cstring>

#include "core/splitmix.hpp"
#include "inca/reduce.hpp"

namespace inca::cli {
namespace {

// Neighbouring (rank, element) pairs get unrelated bits.
std::uint64_t hash(std::uint64_t rank, std::uint64_t i) {
  return core::splitmix64(rank * 0x100000001b3ull ^ core::splitmix64(i));
}

bool is_signed_or_float(Dtype d) {
  return is_floating(d) || d == Dtype::i8 || d == Dtype::i16 || d == Dtype::i32 || d == Dtype::i64;
}

// The largest magnitude below which every integer is exact in `d`; integer
// types wrap exactly, so any bound serves.
std::int64_t exact_limit(Dtype d) {
  switch (d) {
    case Dtype::bf16:
      return 256;
    case Dtype::f16:
      return 2048;
    case Dtype::f32:
      return std::int64_t{1} << 24;
    default:
      return std::int64_t{1} << 40;
  }
}

// Sums: every rank on a stride of `stride` elements contributes -3..3, and
// the stride keeps the contributors of one element within the exact range.
std::uint32_t sum_stride(Dtype d, std::uint32_t ranks) {
  std::uint32_t stride = 1;
  while (3 * std::int64_t{(ranks + stride - 1) / stride} > exact_limit(d)) ++stride;
  return stride;
}

void store(std::byte* e, Dtype dtype, std::int64_t v) {
  switch (dtype) {
    case Dtype::f16: {
      const std::uint16_t b = f32_to_f16(static_cast<float>(v));
      std::memcpy(e, &b, 2);
      break;
    }
    case Dtype::bf16: {
      const std::uint16_t b = f32_to_bf16(static_cast<float>(v));
      std::memcpy(e, &b, 2);
      break;
    }
    case Dtype::f32: {
      const auto f = static_cast<float>(v);
      std::memcpy(e, &f, 4);
      break;
    }
    case Dtype::f64: {
      const auto d = static_cast<double>(v);
      std::memcpy(e, &d, 8);
      break;
    }
    default:
      std::memcpy(e, &v, dtype_size(dtype));  // little-endian: the low bytes
  }
}

std::int64_t pattern_value(Dtype dtype, ReduceOp op, std::uint64_t i, std::uint32_t r,
                           std::uint32_t p, std::uint32_t stride) {
  const std::uint64_t h = hash(r, i);
  const auto decider = static_cast<std::uint32_t>(i % p);
  // Whether the decider acts on element i: in one of any two consecutive
  // blocks of p elements, chosen per rank, so 2p elements reach every rank.
  auto acts = [&] { return ((i / p + hash(decider, 0x5eed)) & 1) != 0; };
  // Bit b of the element's mask (shared by every rank; bit 0 always set)
  // belongs to rank (i + b) mod p.
  auto owned_bits = [&] {
    const std::uint64_t mask = (hash(0xffffffffu, i) & 0xff) | 1;
    std::int64_t bits = 0;
    for (std::uint32_t b = 0; b < 8; ++b)
      if ((mask >> b & 1) && (i + b) % p == r) bits |= std::int64_t{1} << b;
    return bits;
  };
  const std::int64_t base = static_cast<std::int64_t>(i % 9) - (is_signed_or_float(dtype) ? 4 : 0);
  const auto small = [&](std::uint64_t n) { return static_cast<std::int64_t>(h % n); };
  switch (op) {
    case ReduceOp::sum:
      return (i + r) % stride == 0 ? small(7) - 3 : 0;
    case ReduceOp::prod:
      return (h & 7) == 0 ? -1 : 1;
    case ReduceOp::min:
      return r == decider ? base : base + 1 + small(3);
    case ReduceOp::max:
      return r == (i + 1) % p ? base + 5 : base + small(4);
    case ReduceOp::band:
      return ~owned_bits();
    case ReduceOp::bor:
      return owned_bits();
    case ReduceOp::bxor:
      return small(256);
    case ReduceOp::land:
      return r == decider && acts() ? 0 : 1 + small(3);
    case ReduceOp::lor:
      return r == decider && acts() ? 1 + small(3) : 0;
    case ReduceOp::lxor:
      return h % 3 == 0 ? 0 : 1 + small(2);
  }
  return 0;
}

}  // namespace

void fill_bench_pattern(std::byte* out, std::size_t count, Dtype dtype, ReduceOp op,
                        std::uint32_t rank, std::uint32_t ranks) {
  const std::uint32_t p = ranks == 0 ? 1 : ranks;
  const std::uint32_t stride = op == ReduceOp::sum ? sum_stride(dtype, p) : 1;
  const std::size_t esize = dtype_size(dtype);
  for (std::size_t i = 0; i < count; ++i)
    store(out + i * esize, dtype, pattern_value(dtype, op, i, rank, p, stride));
}

}  // namespace inca::cli
