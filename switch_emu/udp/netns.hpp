// Network namespaces and veth pairs for `inca launch` and the integration
// tests: each host (a rank process, or a test's emulated host) gets its own
// namespace holding one end of a veth; the other end stays in the root
// namespace for a switch's af_packet port. Everything created is deleted by
// the destructor, also when a test fails or a rank crashes.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

namespace inca::udp {

/// Runs a shell command with its output discarded; true on exit status 0.
inline bool run_quiet(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

/// Why this machine cannot host network namespaces ("" when it can).
inline std::string netns_unavailable() {
  if (::geteuid() != 0) return "needs root to create network namespaces and veths";
  if (!run_quiet("ip -V")) return "iproute2 'ip' is not installed";
  const std::string probe = fmt::format("inca-probe-{}", ::getpid());
  if (!run_quiet("ip netns add " + probe)) return "cannot create network namespaces here";
  run_quiet("ip netns del " + probe);
  return "";
}

/// Opens a socket inside namespace `ns`; the socket keeps living there while
/// this thread returns to its own namespace. -1 on failure.
inline int socket_in_netns(const std::string& ns, int domain, int type, int protocol) {
  const int self = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = ::open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  int fd = -1;
  if (self >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0) {
    fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
    ::setns(self, CLONE_NEWNET);
  }
  if (self >= 0) ::close(self);
  if (target >= 0) ::close(target);
  return fd;
}

/// N hosts, host i in namespace ns(i) with address <subnet>.(i+1)/24 on a
/// veth whose peer switch_iface(i) is up in the root namespace.
class VethHosts {
 public:
  /// `tag`: one or two characters that make the names unique within this process.
  VethHosts(const std::string& tag, std::size_t n, std::string subnet = "10.77.0")
      : subnet_(std::move(subnet)) {
    const int id = ::getpid() % 100000;
    for (std::size_t i = 0; i < n; ++i) {
      names_.push_back({fmt::format("inca-{}-{}{}", id, tag, i),
                        fmt::format("i{}{}{}s", id, tag, i), fmt::format("i{}{}{}h", id, tag, i)});
    }
  }
  VethHosts(const VethHosts&) = delete;
  VethHosts& operator=(const VethHosts&) = delete;
  ~VethHosts() { destroy(); }

  /// Creates everything; false (with `error` set) on the first failure.
  bool create(std::string& error) {
    for (std::size_t i = 0; i < names_.size(); ++i) {
      const auto& [ns, sw, host] = names_[i];
      run_quiet("ip netns del " + ns);  // a leftover of a crashed run
      run_quiet("ip link del " + sw);
      const std::vector<std::string> steps = {
          "ip netns add " + ns,
          fmt::format("ip link add {} type veth peer name {} netns {}", sw, host, ns),
          // No IPv6 chatter (router solicitations, MLD) on the switch's ports.
          fmt::format("sysctl -qw net.ipv6.conf.{}.disable_ipv6=1", sw),
          fmt::format("ip netns exec {} sysctl -qw net.ipv6.conf.{}.disable_ipv6=1", ns, host),
          fmt::format("ip link set {} up", sw),
          fmt::format("ip -n {} link set lo up", ns),
          fmt::format("ip -n {} addr add {}/24 dev {}", ns, ip(i), host),
          fmt::format("ip -n {} link set {} up", ns, host),
      };
      created_ = i + 1;
      for (const auto& step : steps)
        if (!run_quiet(step)) {
          error = "failed: " + step;
          return false;
        }
    }
    return true;
  }

  void destroy() {
    for (std::size_t i = 0; i < created_; ++i) {
      run_quiet("ip netns del " + std::get<0>(names_[i]));
      run_quiet("ip link del " + std::get<1>(names_[i]));
    }
    created_ = 0;
  }

  std::size_t size() const { return names_.size(); }
  const std::string& ns(std::size_t i) const { return std::get<0>(names_[i]); }
  const std::string& switch_iface(std::size_t i) const { return std::get<1>(names_[i]); }
  const std::string& host_iface(std::size_t i) const { return std::get<2>(names_[i]); }
  std::string ip(std::size_t i) const { return fmt::format("{}.{}", subnet_, i + 1); }

 private:
  std::string subnet_;
  std::vector<std::tuple<std::string, std::string, std::string>> names_;  // ns, switch, host
  std::size_t created_ = 0;
};

}  // namespace inca::udp
