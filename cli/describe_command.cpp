// `inca describe FILE`: what a fabric file builds (counts, capacity,
// oversubscription, timing, every default that filled a missing field), its
// warnings, and with --expand the same fabric written element by element.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "fabric_flags.hpp"
#include "inca/knobs.hpp"

namespace inca::cli {
namespace {

struct DescribeArgs {
  std::string file;
  bool expand = false;
  FabricOptions fabric;
  FabricFlags flags;
  Status env;
};

int describe(DescribeArgs& a) {
  if (!a.env.ok()) {
    std::cerr << "inca describe: " << a.env.message() << "\n";
    return 2;
  }
  if (!a.file.empty()) {
    if (!a.flags.fabric_file.empty() && a.flags.fabric_file != a.file) {
      std::cerr << "inca describe: give the fabric file once\n";
      return 2;
    }
    a.flags.fabric_file = a.file;
  }
  // Warnings are part of what describe reports: load once more for them.
  Status s = finish_fabric_flags(a.flags, a.fabric);
  if (!s.ok()) {
    std::cerr << "inca describe: " << s.message() << "\n";
    return s.code() == StatusCode::config_error ? 1 : 2;
  }
  auto fabric = World::describe_fabric(a.fabric);
  if (!fabric.ok()) {
    std::cerr << "inca describe: " << fabric.status().message() << "\n";
    return 1;
  }
  if (a.expand) {
    std::cout << fabric->to_yaml();
    return 0;
  }
  if (!fabric->source.empty()) {
    const FabricLoad again = FabricDescription::load(fabric->source, a.fabric.overrides);
    for (const Diagnostic& d : again.diagnostics) std::cerr << d.to_string() << "\n";
  }
  std::cout << fabric->summary();
  return 0;
}

}  // namespace

Action add_describe_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "describe", "Show what a fabric file (or preset, or the built-in fabric) builds");
  auto a = std::make_shared<DescribeArgs>();
  a->env = apply_env_overrides(a->fabric);
  cmd->add_option("file", a->file, "Fabric file (YAML)");
  cmd->add_flag("--expand", a->expand,
                "Write the fabric element by element (a fabric file that builds the same)");
  add_fabric_flags(*cmd, a->fabric, a->flags);
  return [a] { return describe(*a); };
}

}  // namespace inca::cli
