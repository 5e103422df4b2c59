// `inca bench --quantized`: rows of the quantized in-network all-reduce
// carry values with full mantissas, whose rounding to the shared exponent's
// grid shows, and report their error against the exact sum in f64 instead of
// a bit-exact comparison.
#pragma once

#include <cstddef>
#include <string>

#include "bench_collectives.hpp"

namespace inca::cli {

/// The algorithm these rows run.
inline constexpr const char* kQuantizedAlgorithm = "innet_quantized";

/// Fills f32/f64 values with random 24-bit mantissas over 2^-4 .. 2^4 (both
/// signs): their sum over up to 2^20 ranks is exact in f64.
void fill_full_mantissa(std::byte* out, std::size_t count, Dtype dtype, ReduceOp op,
                        std::uint32_t rank, std::uint32_t ranks);

/// The largest error of any rank's result against the exact f64 sum of the
/// send buffers, absolute and relative to the largest |sum|, as a row note;
/// `within` is false when it exceeds the bound of docs/model.md.
struct QuantizationReport {
  std::string note;
  bool within = true;
};
QuantizationReport quantization_error(const CollectiveData& data, std::size_t count, Dtype dtype,
                                      std::size_t block, std::uint32_t ranks);

}  // namespace inca::cli
