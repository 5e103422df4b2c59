// Runs a program the report and the plots need (python3 with matplotlib,
// Graphviz dot) and turns its failure into a Status that says what to
// install or what the program said.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "inca/status.hpp"

namespace inca::cli {

/// Runs argv[0] (a path, or a name looked up on PATH) and waits up to
/// `timeout`. not_supported when the program is missing (with `install` in
/// the message), internal with its output when it fails.
Status run_tool(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                const std::string& install);

/// The Python that has Debian's matplotlib: $INCA_PYTHON, else /usr/bin/python3
/// (the python3 first on PATH may be another one).
std::string python();

}  // namespace inca::cli
