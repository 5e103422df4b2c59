// Running a shell command from a test and reading what it printed.
#pragma once

#include <cstdio>
#include <string>
#include <utility>

namespace inca::test {

/// Runs `command` through the shell; its wait status and standard output
/// (standard error too when `with_stderr`, else it is discarded).
inline std::pair<int, std::string> run_capture(const std::string& command,
                                               bool with_stderr = false) {
  std::string out;
  FILE* p = ::popen((command + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (!p) return {-1, out};
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  return {::pclose(p), out};
}

}  // namespace inca::test
