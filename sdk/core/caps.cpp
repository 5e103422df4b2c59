#include "inca/caps.hpp"

#include <fmt/format.h>

namespace inca {
namespace {

std::uint32_t bit(std::uint8_t code) {
  return code < 32 ? 1u << code : 0;
}

}  // namespace

bool SwitchCaps::supports(Dtype dtype, ReduceOp op) const {
  return (dtypes & bit(static_cast<std::uint8_t>(dtype))) &&
         (ops & bit(static_cast<std::uint8_t>(op))) && op_supported(op, dtype);
}

SwitchCaps SwitchCaps::without(Dtype dtype) const {
  return {dtypes & ~bit(static_cast<std::uint8_t>(dtype)), ops};
}

SwitchCaps SwitchCaps::without(ReduceOp op) const {
  return {dtypes, ops & ~bit(static_cast<std::uint8_t>(op))};
}

SwitchCaps SwitchCaps::operator&(const SwitchCaps& other) const {
  return {dtypes & other.dtypes, ops & other.ops};
}

std::string SwitchCaps::describe() const {
  std::string d, o;
  bool all = true;
  for (Dtype t : all_dtypes()) {
    const bool in = dtypes & bit(static_cast<std::uint8_t>(t));
    all = all && in;
    if (in) d.append(" ").append(to_string(t));
  }
  for (ReduceOp p : all_ops()) {
    const bool in = ops & bit(static_cast<std::uint8_t>(p));
    all = all && in;
    if (in) o.append(" ").append(to_string(p));
  }
  if (all) return "all dtypes and ops";
  return fmt::format("dtypes{}; ops{}", d.empty() ? " none" : d, o.empty() ? " none" : o);
}

}  // namespace inca
