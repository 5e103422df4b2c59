#include "inca/dtype.hpp"

#include <array>
#include <string>

namespace inca {
namespace {

struct DtypeInfo {
  Dtype dtype;
  std::string_view name;
  std::size_t size;
  bool floating;
};

constexpr std::array<DtypeInfo, 12> kDtypes{{
    {Dtype::i8, "i8", 1, false},
    {Dtype::u8, "u8", 1, false},
    {Dtype::i16, "i16", 2, false},
    {Dtype::u16, "u16", 2, false},
    {Dtype::i32, "i32", 4, false},
    {Dtype::u32, "u32", 4, false},
    {Dtype::i64, "i64", 8, false},
    {Dtype::u64, "u64", 8, false},
    {Dtype::f16, "f16", 2, true},
    {Dtype::bf16, "bf16", 2, true},
    {Dtype::f32, "f32", 4, true},
    {Dtype::f64, "f64", 8, true},
}};

constexpr std::array<std::pair<ReduceOp, std::string_view>, 10> kOps{{
    {ReduceOp::sum, "sum"},
    {ReduceOp::prod, "prod"},
    {ReduceOp::min, "min"},
    {ReduceOp::max, "max"},
    {ReduceOp::band, "band"},
    {ReduceOp::bor, "bor"},
    {ReduceOp::bxor, "bxor"},
    {ReduceOp::land, "land"},
    {ReduceOp::lor, "lor"},
    {ReduceOp::lxor, "lxor"},
}};

constexpr std::array<Dtype, 12> kDtypeList{Dtype::i8,  Dtype::u8,   Dtype::i16, Dtype::u16,
                                           Dtype::i32, Dtype::u32,  Dtype::i64, Dtype::u64,
                                           Dtype::f16, Dtype::bf16, Dtype::f32, Dtype::f64};
constexpr std::array<ReduceOp, 10> kOpList{
    ReduceOp::sum, ReduceOp::prod, ReduceOp::min,  ReduceOp::max, ReduceOp::band,
    ReduceOp::bor, ReduceOp::bxor, ReduceOp::land, ReduceOp::lor, ReduceOp::lxor};

const DtypeInfo* find(Dtype d) {
  auto code = static_cast<std::uint8_t>(d);
  if (code < 1 || code > kDtypes.size()) return nullptr;
  return &kDtypes[code - 1];
}

}  // namespace

std::span<const Dtype> all_dtypes() {
  return kDtypeList;
}
std::span<const ReduceOp> all_ops() {
  return kOpList;
}

bool is_floating(Dtype dtype) {
  const DtypeInfo* info = find(dtype);
  return info && info->floating;
}

bool is_valid_dtype_code(std::uint8_t code) {
  return code >= 1 && code <= kDtypes.size();
}
bool is_valid_op_code(std::uint8_t code) {
  return code >= 1 && code <= kOps.size();
}

std::string_view to_string(Dtype dtype) {
  const DtypeInfo* info = find(dtype);
  return info ? info->name : "unknown_dtype";
}

std::string_view to_string(ReduceOp op) {
  auto code = static_cast<std::uint8_t>(op);
  return is_valid_op_code(code) ? kOps[code - 1].second : "unknown_op";
}

std::optional<Dtype> parse_dtype(std::string_view name) {
  for (const auto& info : kDtypes)
    if (info.name == name) return info.dtype;
  if (name == "float" || name == "float32") return Dtype::f32;
  if (name == "double" || name == "float64") return Dtype::f64;
  if (name == "half" || name == "float16") return Dtype::f16;
  if (name == "int" || name == "int32") return Dtype::i32;
  return std::nullopt;
}

std::optional<ReduceOp> parse_op(std::string_view name) {
  for (const auto& [op, op_name] : kOps)
    if (op_name == name) return op;
  return std::nullopt;
}

bool op_supported(ReduceOp op, Dtype dtype) {
  if (!find(dtype) || !is_valid_op_code(static_cast<std::uint8_t>(op))) return false;
  const bool bitwise = op == ReduceOp::band || op == ReduceOp::bor || op == ReduceOp::bxor;
  return !(bitwise && is_floating(dtype));
}

bool zero_is_identity(ReduceOp op, Dtype dtype) {
  if (!op_supported(op, dtype)) return false;
  return op == ReduceOp::bor || op == ReduceOp::bxor ||
         (op == ReduceOp::sum && !is_floating(dtype));
}

Status check_op(ReduceOp op, Dtype dtype) {
  if (!find(dtype))
    return make_error(StatusCode::invalid_argument,
                      "unknown dtype code " + std::to_string(static_cast<int>(dtype)));
  if (!is_valid_op_code(static_cast<std::uint8_t>(op)))
    return make_error(StatusCode::invalid_argument,
                      "unknown reduce op code " + std::to_string(static_cast<int>(op)));
  if (!op_supported(op, dtype))
    return make_error(StatusCode::not_supported, "op " + std::string(to_string(op)) +
                                                     " is bitwise and not defined for dtype " +
                                                     std::string(to_string(dtype)));
  return {};
}

}  // namespace inca
