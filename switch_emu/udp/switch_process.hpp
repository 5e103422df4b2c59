// Starts inca-switch (and inca-loadgen) from the build's bin/ directory for
// `inca launch` and the integration tests: unique EAL file prefixes, no
// hugepages, the control channel on a free port read back from the switch's
// log, and the EAL's runtime directory removed when the process is gone.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "manager/switch_control_client.hpp"
#include "udp/child_process.hpp"

namespace inca::udp {

/// A binary built next to the running one (bin/), or "" when absent.
/// INCA_BIN_DIR overrides the directory.
inline std::string sibling_binary(const std::string& name) {
  std::filesystem::path dir;
  if (const char* env = std::getenv("INCA_BIN_DIR"))
    dir = env;
  else
    dir = std::filesystem::read_symlink("/proc/self/exe").parent_path();
  const auto path = dir / name;
  return ::access(path.c_str(), X_OK) == 0 ? path.string() : std::string();
}

/// The EAL file prefix of a DPDK process named `name`: unique per parent process.
inline std::string eal_prefix(const std::string& name) {
  return fmt::format("inca-{}-{}", ::getpid(), name);
}

/// EAL arguments every emulated switch uses: no hugepages, no PCI, a prefix of
/// its own, and the main lcore free to run on any CPU (the machine is shared
/// with the host processes).
inline std::vector<std::string> switch_eal_args(const std::string& name) {
  const long cpus = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
  return {"--no-huge",
          "-m",
          "256",
          "--no-pci",
          "--file-prefix",
          eal_prefix(name),
          fmt::format("--lcores=0@(0-{})", cpus - 1),
          "--log-level=lib.eal:warning"};
}

/// Removes the runtime directory that an EAL of file prefix `prefix` leaves
/// behind: /var/run/dpdk/<prefix> for root, else
/// $XDG_RUNTIME_DIR/dpdk/<prefix> or /tmp/dpdk/<prefix>.
inline void remove_eal_prefix_dir(const std::string& prefix) {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  const std::filesystem::path base = ::geteuid() == 0 ? std::filesystem::path("/var/run")
                                     : xdg != nullptr ? std::filesystem::path(xdg)
                                                      : std::filesystem::path("/tmp");
  std::error_code ec;
  std::filesystem::remove_all(base / "dpdk" / prefix, ec);
}

/// Removes the EAL runtime directory of the DPDK process named `name` (its
/// prefix is eal_prefix(name)) once the process is gone.
inline void remove_eal_runtime_dir(const std::string& name) {
  remove_eal_prefix_dir(eal_prefix(name));
}

/// A DPDK process: stopped, and its EAL runtime directory removed, when this
/// object goes.
class DpdkProcess {
 public:
  DpdkProcess() = default;
  DpdkProcess(const DpdkProcess&) = delete;
  DpdkProcess& operator=(const DpdkProcess&) = delete;
  ~DpdkProcess() { stop(); }

  /// Starts `binary` with the EAL arguments and `vdevs`, then "--" and
  /// `args`, its output going to `log_path`.
  bool start(const std::string& binary, const std::string& name,
             const std::vector<std::string>& vdevs, const std::vector<std::string>& args,
             const std::string& log_path) {
    name_ = name;
    std::vector<std::string> argv{binary};
    for (auto& a : switch_eal_args(name)) argv.push_back(a);
    for (const auto& v : vdevs) argv.push_back("--vdev=" + v);
    argv.push_back("--");
    argv.insert(argv.end(), args.begin(), args.end());
    return process_.start(argv, log_path);
  }
  /// SIGTERM (then SIGKILL after a grace period); the wait status.
  int stop() {
    const int status = process_.stop();
    if (!name_.empty()) remove_eal_runtime_dir(name_);
    return status;
  }
  ChildProcess& process() { return process_; }

 private:
  ChildProcess process_;
  std::string name_;
};

/// A running inca-switch with its control channel.
class SwitchProcess {
 public:
  /// Starts `binary` with the EAL `vdevs` and the switch `args`; waits for
  /// "ready". Returns false with `error` set (and the log in it) on failure.
  ///
  /// An af_packet port can fail to come up when another process in the same
  /// network namespace got the same PACKET_FANOUT group id (the PMD derives
  /// it from pid ^ ifindex); the switch then refuses to start, and a new
  /// process (a new pid) is tried.
  bool start(const std::string& binary, const std::string& name,
             const std::vector<std::string>& vdevs, const std::vector<std::string>& args,
             const std::string& log_dir, std::string& error) {
    std::vector<std::string> switch_args{"--name", name, "--control", "127.0.0.1:0"};
    switch_args.insert(switch_args.end(), args.begin(), args.end());
    constexpr int kAttempts = 4;
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
      const std::string log = fmt::format("{}/{}.{}.log", log_dir, name, attempt);
      if (!dpdk_.start(binary, name, vdevs, switch_args, log)) {
        error = "fork failed";
        return false;
      }
      // "<name>: control channel listening on 127.0.0.1:<port>"
      auto address =
          process().wait_for_line("control channel listening on ", std::chrono::seconds(30));
      if (address && process().wait_for_line(name + ": ready", std::chrono::seconds(5))) {
        control_ = *address;
        return true;
      }
      error = "inca-switch did not start:\n" + process().log();
      dpdk_.stop();
      if (error.find("did not come up") == std::string::npos) return false;
    }
    return false;
  }

  /// A new control connection.
  Result<manager::SwitchControlClient> connect() const {
    return manager::SwitchControlClient::connect(control_, std::chrono::milliseconds(5000));
  }
  const std::string& control_address() const { return control_; }
  ChildProcess& process() { return dpdk_.process(); }
  std::string log() { return process().log(); }
  /// Stops the switch; its wait status.
  int stop() { return dpdk_.stop(); }

 private:
  DpdkProcess dpdk_;
  std::string control_;
};

/// A scratch directory removed with this object.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/inca-XXXXXX";
    path_ = ::mkdtemp(tmpl) ? tmpl : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    if (path_ != "/tmp") std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace inca::udp
