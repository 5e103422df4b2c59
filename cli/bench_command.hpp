// `inca bench` as a function, for programs that embed the command (the
// Python module's inca.bench): the same flags, parsed the same way.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace inca::cli {

/// Runs `inca bench ARGS` (ARGS: the flags, without "inca bench") as the
/// command line does, the report on `out` and errors on `err`. Returns the
/// command's exit status: 0, 1 when a row's check failed, 2 for bad flags.
int run_bench_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace inca::cli
