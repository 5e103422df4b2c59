#include "bench_plot.hpp"

#include <cstdlib>
#include <fstream>

#include "external_tool.hpp"
#include "udp/switch_process.hpp"

namespace inca::cli {

bool plot_format_known(const std::string& path) {
  auto ends = [&](const std::string& suffix) {
    return path.size() > suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends(".svg") || ends(".png");
}

std::string plot_script() {
  const char* chosen = std::getenv("INCA_PLOT_SCRIPT");
  return chosen && *chosen ? chosen : std::string(INCA_SOURCE_DIR) + "/tools/plot/bench_plot.py";
}

Status plot_sweep(const nlohmann::json& sweep, const std::string& path, const std::string& panels) {
  if (!plot_format_known(path))
    return make_error(StatusCode::invalid_argument,
                      "plot '" + path + "': the file must end in .svg or .png");
  udp::TempDir dir;
  const std::string input = dir.path() + "/sweep.json";
  {
    std::ofstream out(input);
    out << sweep.dump();
    if (!out) return make_error(StatusCode::io_error, "cannot write " + input);
  }
  return run_tool({python(), plot_script(), input, path, "--panels", panels},
                  std::chrono::seconds(120),
                  "apt-get install python3-matplotlib, or run scripts/setup.sh");
}

}  // namespace inca::cli
