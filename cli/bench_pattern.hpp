// The data `inca bench` reduces: inputs whose reduction is exact in any order
// (so one reference serves every algorithm and arrival order) and yet depends
// on the ranks' data in every element, for every dtype and op at every rank
// count. A result assembled from the wrong contributions, or from none, then
// differs from the reference.
#pragma once

#include <cstddef>
#include <cstdint>

#include "inca/dtype.hpp"

namespace inca::cli {

/// Fills `count` elements of rank `rank` (of `ranks`) for a sweep of `op`:
/// - sum: small integers, on a stride of ranks chosen so that every partial
///   sum stays exactly representable (bf16: |sum| <= 256, f16: 2048);
/// - prod: +-1;
/// - min / max: one rank per element (a different one per element) holds the
///   extreme, the others lie strictly inside;
/// - band / bor: each bit of a per-element mask is cleared / set by exactly
///   one rank; bxor: pseudo-random bytes;
/// - land / lor: one rank per element decides the result; lxor: random 0/1..3.
/// Every rank's data changes the result somewhere within max(512, 2 x ranks)
/// elements.
void fill_bench_pattern(std::byte* out, std::size_t count, Dtype dtype, ReduceOp op,
                        std::uint32_t rank, std::uint32_t ranks);

}  // namespace inca::cli
