// Each `inca` subcommand registers itself on the app and returns the action
// to run when it was chosen.
#pragma once

#include <functional>
#include <iostream>

#include <CLI/CLI.hpp>

namespace inca::cli {

using Action = std::function<int()>;

/// `inca bench` (bench_command.cpp): the report on `out`, errors on `err`.
Action add_bench_command(CLI::App& app, std::ostream& out = std::cout,
                         std::ostream& err = std::cerr);
/// `inca config --dump` (config_command.cpp).
Action add_config_command(CLI::App& app);
/// `inca calibrate TABLE --fabric-file F --out F2` (calibrate_command.cpp).
Action add_calibrate_command(CLI::App& app);
/// `inca describe FILE [--expand]` (describe_command.cpp).
Action add_describe_command(CLI::App& app);
/// `inca launch -n N --fabric udp -- PROGRAM ARGS` (launch_command.cpp).
Action add_launch_command(CLI::App& app);
/// `inca validate FABRIC [JOBS]` (validate_command.cpp).
Action add_validate_command(CLI::App& app);
/// `inca tree FABRIC JOBS --job NAME` (tree_command.cpp).
Action add_tree_command(CLI::App& app);
/// `inca run FABRIC JOBS` (run_command.cpp).
Action add_run_command(CLI::App& app);
/// `inca report FILE.html` (report_command.cpp).
Action add_report_command(CLI::App& app);

}  // namespace inca::cli
