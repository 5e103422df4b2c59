// A child process (inca-switch and friends, for `inca launch` and the
// integration tests): started by path with its output in a log file, told to
// stop with SIGTERM, killed if it does not, and killed with its parent if
// that dies first.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace inca::udp {

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { stop(); }

  /// Starts argv[0] with stdout and stderr appended to `log_path`.
  /// Returns false (with errno set) when fork fails.
  bool start(const std::vector<std::string>& argv, const std::string& log_path) {
    log_path_ = log_path;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      // Dies with its parent, so a crashed test or launcher leaves no switch behind.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    return true;
  }

  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }

  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  /// Waits until a whole line of the log contains `marker`; returns the rest
  /// of that line after the marker, nullopt on timeout or when the child
  /// exits first.
  std::optional<std::string> wait_for_line(const std::string& marker,
                                           std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      // Whether it runs is asked before the log is read: a child that wrote
      // the line and exited between a read and that question would otherwise
      // be given up on with the line in its log.
      const bool alive = running();
      const std::string text = log();
      const auto at = text.find(marker);
      const auto eol = at == std::string::npos ? at : text.find('\n', at);
      if (eol != std::string::npos)
        return text.substr(at + marker.size(), eol - at - marker.size());
      if (!alive || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  /// Waits for the child to exit by itself; its wait status, or nullopt on
  /// timeout (the child keeps running).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return exit_status_;
  }

  void signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  /// SIGTERM, then SIGKILL after `grace`. Returns the wait status (or -1).
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000)) {
    if (pid_ <= 0) return exit_status_;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exit_status_ = status;
      pid_ = -1;
    }
    return exit_status_;
  }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
  std::string log_path_;
};

}  // namespace inca::udp
