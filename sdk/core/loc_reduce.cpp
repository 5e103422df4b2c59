#include <string>

#include "inca/loc.hpp"

namespace inca {
namespace {

template <typename T>
void reduce_pairs(void* acc, const void* in, std::size_t count, LocOp op) {
  auto* a = static_cast<ValueIndex<T>*>(acc);
  const auto* b = static_cast<const ValueIndex<T>*>(in);
  for (std::size_t i = 0; i < count; ++i) {
    const bool better = op == LocOp::minloc ? b[i].value < a[i].value : b[i].value > a[i].value;
    const bool tie_wins = b[i].value == a[i].value && b[i].index < a[i].index;
    if (better || tie_wins) a[i] = b[i];
  }
}

}  // namespace

std::size_t loc_pair_size(LocDtype dtype) {
  switch (dtype) {
    case LocDtype::f32_i32:
      return sizeof(ValueIndex<float>);
    case LocDtype::f64_i32:
      return sizeof(ValueIndex<double>);
    case LocDtype::i32_i32:
      return sizeof(ValueIndex<std::int32_t>);
    case LocDtype::i64_i32:
      return sizeof(ValueIndex<std::int64_t>);
  }
  return 0;
}

std::string_view to_string(LocDtype dtype) {
  switch (dtype) {
    case LocDtype::f32_i32:
      return "f32_i32";
    case LocDtype::f64_i32:
      return "f64_i32";
    case LocDtype::i32_i32:
      return "i32_i32";
    case LocDtype::i64_i32:
      return "i64_i32";
  }
  return "unknown";
}

std::string_view to_string(LocOp op) {
  return op == LocOp::minloc ? "minloc" : op == LocOp::maxloc ? "maxloc" : "unknown";
}

Status reduce_loc_into(void* acc, const void* in, std::size_t count, LocDtype dtype, LocOp op) {
  if (op != LocOp::minloc && op != LocOp::maxloc)
    return make_error(StatusCode::invalid_argument,
                      "unknown loc op code " + std::to_string(static_cast<int>(op)));
  switch (dtype) {
    case LocDtype::f32_i32:
      reduce_pairs<float>(acc, in, count, op);
      return {};
    case LocDtype::f64_i32:
      reduce_pairs<double>(acc, in, count, op);
      return {};
    case LocDtype::i32_i32:
      reduce_pairs<std::int32_t>(acc, in, count, op);
      return {};
    case LocDtype::i64_i32:
      reduce_pairs<std::int64_t>(acc, in, count, op);
      return {};
  }
  return make_error(StatusCode::invalid_argument,
                    "unknown loc dtype code " + std::to_string(static_cast<int>(dtype)));
}

}  // namespace inca
