// Element types and reduction operations, with the table of valid pairs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "inca/status.hpp"

namespace inca {

/// Element type of a reduction buffer. The numeric values are wire codes.
enum class Dtype : std::uint8_t {
  i8 = 1,
  u8 = 2,
  i16 = 3,
  u16 = 4,
  i32 = 5,
  u32 = 6,
  i64 = 7,
  u64 = 8,
  f16 = 9,
  bf16 = 10,
  f32 = 11,
  f64 = 12,
};

/// Reduction operation. The numeric values are wire codes.
enum class ReduceOp : std::uint8_t {
  sum = 1,
  prod = 2,
  min = 3,
  max = 4,
  band = 5,
  bor = 6,
  bxor = 7,
  land = 8,
  lor = 9,
  lxor = 10,
};

/// Every dtype and op, in wire-code order, for sweeps and tests.
std::span<const Dtype> all_dtypes();
std::span<const ReduceOp> all_ops();

/// Size of one element in bytes; 0 for an unknown code. Inline: every packet
/// the simulator moves asks it.
constexpr std::size_t dtype_size(Dtype dtype) {
  switch (dtype) {
    case Dtype::i8:
    case Dtype::u8:
      return 1;
    case Dtype::i16:
    case Dtype::u16:
    case Dtype::f16:
    case Dtype::bf16:
      return 2;
    case Dtype::i32:
    case Dtype::u32:
    case Dtype::f32:
      return 4;
    case Dtype::i64:
    case Dtype::u64:
    case Dtype::f64:
      return 8;
  }
  return 0;
}
bool is_floating(Dtype dtype);
/// True when the numeric code names a known dtype / op (used by wire decode).
bool is_valid_dtype_code(std::uint8_t code);
bool is_valid_op_code(std::uint8_t code);

std::string_view to_string(Dtype dtype);
std::string_view to_string(ReduceOp op);
/// Parses "f32", "bf16", ... and "sum", "max", ...; nullopt when unknown.
std::optional<Dtype> parse_dtype(std::string_view name);
std::optional<ReduceOp> parse_op(std::string_view name);

/// The valid-pair table: bitwise ops (band, bor, bxor) need an integer dtype;
/// everything else is defined for every dtype.
bool op_supported(ReduceOp op, Dtype dtype);
/// ok, or not_supported / invalid_argument with a message naming the pair.
Status check_op(ReduceOp op, Dtype dtype);
/// True when all-zero bytes are the op's identity in dtype and x op 0 is x
/// bit for bit: bor, bxor and integer sum (not float sum: -0 + 0 is +0; not
/// the logical ops, which turn x into 0 or 1). Only these may leave a rank's
/// chunks out of an in-network reduction (wire::kFlagIdentity).
bool zero_is_identity(ReduceOp op, Dtype dtype);

}  // namespace inca
