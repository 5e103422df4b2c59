#include "bench_quantized.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace inca::cli {
namespace {

template <typename T>
T element(const std::vector<std::byte>& buf, std::size_t i) {
  T v;
  std::memcpy(&v, buf.data() + i * sizeof(T), sizeof(T));
  return v;
}

double value(const std::vector<std::byte>& buf, std::size_t i, Dtype dtype) {
  return dtype == Dtype::f64 ? element<double>(buf, i) : element<float>(buf, i);
}

}  // namespace

void fill_full_mantissa(std::byte* out, std::size_t count, Dtype dtype, ReduceOp,
                        std::uint32_t rank, std::uint32_t) {
  std::uint64_t state = 0x9e3779b97f4a7c15ull ^ (std::uint64_t{rank} * 0xbf58476d1ce4e5b9ull);
  for (std::size_t i = 0; i < count; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const double mantissa = 1.0 + static_cast<double>((state >> 40) & 0x7fffff) / 0x800000;
    const int exponent = static_cast<int>((state >> 20) % 9) - 4;
    const double v = std::ldexp((state >> 63) ? -mantissa : mantissa, exponent);
    if (dtype == Dtype::f64) {
      std::memcpy(out + i * 8, &v, 8);
    } else {
      const auto f = static_cast<float>(v);  // exact: 24-bit mantissa
      std::memcpy(out + i * 4, &f, 4);
    }
  }
}

QuantizationReport quantization_error(const CollectiveData& d, std::size_t count, Dtype dtype,
                                      std::size_t block, std::uint32_t ranks) {
  QuantizationReport report;
  if (d.send.empty()) return report;
  const int headroom = std::bit_width(std::max(ranks, 1u) - 1);
  const double unit = dtype == Dtype::f64 ? 0x1p-53 : 0x1p-24;
  double max_abs = 0, max_sum = 0, worst_ratio = 0;
  for (std::size_t first = 0; first < count; first += block) {
    const std::size_t last = std::min(first + block, count);
    double largest = 0;
    for (const auto& send : d.send)
      for (std::size_t i = first; i < last; ++i)
        largest = std::max(largest, std::abs(value(send, i, dtype)));
    int e = 0;
    std::frexp(largest, &e);
    for (std::size_t i = first; i < last; ++i) {
      double exact = 0;
      for (const auto& send : d.send) exact += value(send, i, dtype);
      max_sum = std::max(max_sum, std::abs(exact));
      // p roundings of half a grid step, then one to the dtype.
      const double bound =
          ranks * 0.5 * std::ldexp(1.0, e + headroom - 30) + std::abs(exact) * unit;
      for (const auto& recv : d.recv) {
        const double err = std::abs(value(recv, i, dtype) - exact);
        max_abs = std::max(max_abs, err);
        if (bound > 0) worst_ratio = std::max(worst_ratio, err / bound);
        if (err > bound) report.within = false;
      }
    }
  }
  report.note = fmt::format("max error vs exact f64 sum {:.3g} abs, {:.3g} rel; {:.0f}% of bound",
                            max_abs, max_sum > 0 ? max_abs / max_sum : 0, 100 * worst_ratio);
  return report;
}

}  // namespace inca::cli
