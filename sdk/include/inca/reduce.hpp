// Reduction kernels shared by hosts and switches.
//
// Accumulation rule for f16 and bf16: every pairwise step widens both operands
// to f32, applies the op in f32 and rounds the result back to the 16-bit type
// (round to nearest, ties to even). A reduction of n inputs is therefore n-1
// rounded steps in the order the caller applies them, which is what makes a
// fixed order bit-reproducible on every fabric.
//
// Logical ops (land, lor, lxor) treat any non-zero element as true (for floats
// NaN is true and -0 is false) and produce 1 or 0 in the element type.
//
// Float min/max do NOT follow std::fmin/fmax: a NaN operand propagates, so a
// NaN is never silently dropped. When both operands are NaN the first (acc /
// a) is returned; when they compare equal (including -0 vs +0) the first is
// kept, so min(+0, -0) is +0 and min(-0, +0) is -0.
#pragma once

#include <cstddef>
#include <cstdint>

#include "inca/dtype.hpp"

namespace inca {

/// acc[i] = acc[i] op in[i] for i < count. acc and in may be the same buffer
/// but must not overlap partially.
/// The pair must satisfy op_supported(); the kernel does not check again.
void reduce_into(void* acc, const void* in, std::size_t count, Dtype dtype, ReduceOp op);

/// out[i] = a[i] op b[i]. out, a and b may each be the same buffer as another
/// (out == a, out == b, a == b) but must not overlap partially.
void reduce_pair(void* out, const void* a, const void* b, std::size_t count, Dtype dtype,
                 ReduceOp op);

/// IEEE binary16 and bfloat16 conversions (round to nearest even, NaN kept).
float f16_to_f32(std::uint16_t bits);
std::uint16_t f32_to_f16(float value);
float bf16_to_f32(std::uint16_t bits);
std::uint16_t f32_to_bf16(float value);

}  // namespace inca
