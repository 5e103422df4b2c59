// The `inca` command as the command tests run it: the executable built next
// to the test binary, its stdout and stderr together, and its exit code.
#pragma once

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace inca::test {

struct CommandRun {
  int exit_code = -1;
  std::string out;
};

/// Runs `inca ARGS`; `tag` names its output file (ctest runs tests side by
/// side, so each test file has its own).
inline CommandRun run_inca(const std::string& args, const std::string& tag) {
  const auto bin = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "inca";
  const std::string log =
      testing::TempDir() + "/" + tag + "-" + std::to_string(::getpid()) + ".out";
  const int status = std::system((bin.string() + " " + args + " >" + log + " 2>&1").c_str());
  std::stringstream text;
  text << std::ifstream(log).rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
}

}  // namespace inca::test
