// The `inca` command: inca bench | ... (see `inca --help`).
#include <cstdio>
#include <vector>

#include "commands.hpp"
#include "python_plugin.hpp"

int main(int argc, char** argv) {
  if (const int status = inca::cli::exec_python_bench(argc, argv); status >= 0) return status;
  CLI::App app{"inca: in-network collective aggregation SDK and emulator"};
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, inca::cli::Action>> commands;
  inca::cli::Action bench = inca::cli::add_bench_command(app);
  commands.emplace_back(app.get_subcommand("bench"), bench);
  inca::cli::Action config = inca::cli::add_config_command(app);
  commands.emplace_back(app.get_subcommand("config"), config);
  inca::cli::Action calibrate = inca::cli::add_calibrate_command(app);
  commands.emplace_back(app.get_subcommand("calibrate"), calibrate);
  inca::cli::Action describe = inca::cli::add_describe_command(app);
  commands.emplace_back(app.get_subcommand("describe"), describe);
  inca::cli::Action launch = inca::cli::add_launch_command(app);
  commands.emplace_back(app.get_subcommand("launch"), launch);
  inca::cli::Action report = inca::cli::add_report_command(app);
  commands.emplace_back(app.get_subcommand("report"), report);
  inca::cli::Action validate = inca::cli::add_validate_command(app);
  commands.emplace_back(app.get_subcommand("validate"), validate);
  inca::cli::Action tree = inca::cli::add_tree_command(app);
  commands.emplace_back(app.get_subcommand("tree"), tree);
  inca::cli::Action run = inca::cli::add_run_command(app);
  commands.emplace_back(app.get_subcommand("run"), run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; every other command-line mistake is a usage error, 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (auto& [sub, action] : commands)
    if (sub->parsed()) return action();
  return 2;
}
