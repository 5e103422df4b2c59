#include "external_tool.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "udp/child_process.hpp"
#include "udp/switch_process.hpp"

namespace inca::cli {
namespace {

// argv[0] as a path to run, or "" when it is not there.
std::string locate(const std::string& program) {
  if (program.find('/') != std::string::npos)
    return ::access(program.c_str(), X_OK) == 0 ? program : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (std::size_t at = 0, colon; at <= dirs.size(); at = colon + 1) {
    colon = dirs.find(':', at);
    if (colon == std::string::npos) colon = dirs.size();
    const std::string candidate = dirs.substr(at, colon - at) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

}  // namespace

std::string python() {
  const char* chosen = std::getenv("INCA_PYTHON");
  return chosen && *chosen ? chosen : "/usr/bin/python3";
}

Status run_tool(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                const std::string& install) {
  std::vector<std::string> args = argv;
  args[0] = locate(argv[0]);
  if (args[0].empty())
    return make_error(StatusCode::not_supported,
                      fmt::format("{} is not installed ({})", argv[0], install));
  udp::TempDir dir;
  udp::ChildProcess child;
  if (!child.start(args, dir.path() + "/output.log"))
    return make_error(StatusCode::internal, fmt::format("cannot start {}", argv[0]));
  const auto status = child.wait_exit(timeout);
  if (!status) {
    child.stop(std::chrono::milliseconds(1000));
    return make_error(StatusCode::timeout,
                      fmt::format("{} did not finish within {} s", argv[0], timeout.count()));
  }
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return {};
  std::string output = child.log();
  if (output.size() > 2000) output = "..." + output.substr(output.size() - 2000);
  return make_error(StatusCode::internal,
                    fmt::format("{} failed (wait status {}): {}", argv[0], *status, output));
}

}  // namespace inca::cli
