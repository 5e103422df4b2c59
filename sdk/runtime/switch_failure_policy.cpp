#include "inca/faults.hpp"

namespace inca {

std::string_view to_string(SwitchFailurePolicy policy) {
  switch (policy) {
    case SwitchFailurePolicy::reform:
      return "reform";
    case SwitchFailurePolicy::fallback:
      return "fallback";
    case SwitchFailurePolicy::error:
      return "error";
  }
  return "unknown_policy";
}

std::optional<SwitchFailurePolicy> parse_switch_failure_policy(std::string_view name) {
  for (auto p :
       {SwitchFailurePolicy::reform, SwitchFailurePolicy::fallback, SwitchFailurePolicy::error})
    if (to_string(p) == name) return p;
  return std::nullopt;
}

}  // namespace inca
