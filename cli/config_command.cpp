// `inca config --dump`: every knob with its value (defaults overridden by
// INCA_* variables), its default and one line of documentation.
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "inca/knobs.hpp"

namespace inca::cli {

Action add_config_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("config", "Show the knobs: value, default, meaning");
  auto dump = std::make_shared<bool>(false);
  cmd->add_flag("--dump", *dump, "Print every knob (INCA_* environment overrides applied)");
  return [dump] {
    if (!*dump) {
      std::fprintf(stderr, "inca config: nothing to do (try --dump)\n");
      return 2;
    }
    FabricOptions fabric;
    AllreduceOptions call;
    Status s = apply_env_overrides(fabric, &call);
    if (!s.ok()) {
      std::fprintf(stderr, "inca config: %s\n", s.to_string().c_str());
      return 2;
    }
    fmt::print("{:<28} {:>12} {:>12}  {}\n", "variable", "value", "default", "meaning");
    for (const KnobInfo& k : describe_knobs(fabric, call))
      fmt::print("{:<28} {:>12} {:>12}  {}\n", k.env, k.value, k.default_value, k.doc);
    return 0;
  };
}

}  // namespace inca::cli
