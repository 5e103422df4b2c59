// `inca bench --plot` and the report's figures: a sweep document drawn by
// tools/plot/bench_plot.py with Debian's matplotlib.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "inca/status.hpp"

namespace inca::cli {

/// True when `path` ends in .svg or .png.
bool plot_format_known(const std::string& path);
/// Draws `panels` ("algbw,ratio,nic" by default) of the sweep into `path`.
/// not_supported when python3-matplotlib is missing.
Status plot_sweep(const nlohmann::json& sweep, const std::string& path,
                  const std::string& panels = "algbw,ratio,nic");
/// The script: $INCA_PLOT_SCRIPT, else tools/plot/bench_plot.py of the source tree.
std::string plot_script();

}  // namespace inca::cli
