// Every tunable of a fabric and of a collective call, settable through the
// API (FabricOptions, AllreduceOptions) and through INCA_* environment
// variables, with one line of documentation each (`inca config --dump`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "inca/communicator.hpp"
#include "inca/status.hpp"
#include "inca/world.hpp"

namespace inca {

/// One knob: its environment variable, current and default values (as text,
/// in the variable's units) and what it does.
struct KnobInfo {
  std::string env;
  std::string value;
  std::string default_value;
  std::string doc;
};

/// Overrides the fields of `fabric` (and of `call`, when given) whose INCA_*
/// variable is set in the environment. config_error naming the variable and
/// its text when a value does not parse or is out of range; nothing is
/// changed then.
Status apply_env_overrides(FabricOptions& fabric, AllreduceOptions* call = nullptr);

/// Sets the one knob whose variable is `env` (e.g. "INCA_LINK_GBPS") from
/// `text`, as if the variable held it; call knobs need `call`. config_error
/// naming the knob when the text does not parse, invalid_argument when no
/// knob has that name; nothing is changed then.
Status apply_knob(FabricOptions& fabric, AllreduceOptions* call, std::string_view env,
                  std::string_view text);

/// Every knob with its value in `fabric` / `call`, in a stable order.
std::vector<KnobInfo> describe_knobs(const FabricOptions& fabric, const AllreduceOptions& call);

}  // namespace inca
