// MINLOC / MAXLOC: reductions of (value, index) pairs that keep the smallest
// (largest) value and, among equal values, the smallest index, as MPI does.
// They run on hosts only: the switches' aggregation units reduce plain
// elements, not pairs, so Communicator::allreduce_loc never uses the tree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "inca/status.hpp"

namespace inca {

/// One (value, index) element, laid out like MPI's MPI_FLOAT_INT and friends.
template <typename T>
struct ValueIndex {
  T value;
  std::int32_t index;
};

/// The value type of a pair buffer: ValueIndex<float>, <double>,
/// <std::int32_t> or <std::int64_t>.
enum class LocDtype : std::uint8_t { f32_i32, f64_i32, i32_i32, i64_i32 };

/// Keep the smallest or the largest value.
enum class LocOp : std::uint8_t { minloc, maxloc };

/// sizeof the pair struct (padding included); 0 for an unknown code.
std::size_t loc_pair_size(LocDtype dtype);
std::string_view to_string(LocDtype dtype);
std::string_view to_string(LocOp op);

/// acc[i] = the winner of (acc[i], in[i]): the smaller (larger) value, and on
/// a tie the smaller index. A NaN value never wins. invalid_argument for an
/// unknown dtype or op.
Status reduce_loc_into(void* acc, const void* in, std::size_t count, LocDtype dtype, LocOp op);

}  // namespace inca
