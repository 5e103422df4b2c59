// The manager's side of the control channel to a real switch (inca-switch):
// one TCP connection, one request at a time, every call bounded by a
// timeout. Plain POSIX sockets, so SDK programs configure switches without
// linking DPDK. The frames are wire/control_codec.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inca/status.hpp"
#include "wire/control.hpp"
#include "wire/control_codec.hpp"

namespace inca::manager {

/// "host:port" split and checked; host is an IPv4 address or a name.
struct ControlAddress {
  std::string host;
  std::uint16_t port = 0;
};
Result<ControlAddress> parse_control_address(std::string_view text);

class SwitchControlClient {
 public:
  using Duration = std::chrono::milliseconds;

  /// Connects to a switch's control port ("127.0.0.1:7000"). Fails with
  /// invalid_argument (bad address), io_error (refused, unreachable) or
  /// timeout.
  static Result<SwitchControlClient> connect(std::string_view address,
                                             Duration timeout = Duration(2000));

  SwitchControlClient(SwitchControlClient&& other) noexcept;
  SwitchControlClient& operator=(SwitchControlClient&& other) noexcept;
  SwitchControlClient(const SwitchControlClient&) = delete;
  SwitchControlClient& operator=(const SwitchControlClient&) = delete;
  ~SwitchControlClient();

  /// Liveness: the switch's name, address, resources and ports.
  Result<wire::SwitchInfo> ping();
  /// The switch's verdict on a tree (its engine's Status, e.g. no_resource).
  Status install(const wire::TreeInstall& tree);
  Status remove(const wire::TreeRemove& tree);
  /// Tells the switch who sits at the far end of a port (its parent switch).
  Status set_neighbor(const wire::NeighborAddress& neighbor);
  /// Every counter the switch keeps, by name.
  Result<std::vector<wire::Counter>> counters();
  /// Connects a host's RoCEv2 queue pair; the switch's queue pair and first
  /// PSN, or its refusal (invalid_argument, no_resource).
  Result<wire::QpInfo> connect_qp(const wire::QpConnect& qp);
  /// Disconnects the switch's queue pair `qpn` (not_supported when unknown).
  Status disconnect_qp(std::uint32_t qpn);

  /// Timeout of each later call (send and receive together).
  void set_timeout(Duration timeout) { timeout_ = timeout; }
  const std::string& address() const { return address_; }

 private:
  SwitchControlClient(int fd, std::string address, Duration timeout);
  Result<wire::ControlReply> call(wire::ControlRequestBody body);
  void close_socket();

  int fd_ = -1;
  std::string address_;
  Duration timeout_;
  std::uint32_t next_id_ = 1;
};

/// The value of a named counter, or nullopt when the switch has none.
std::optional<std::uint64_t> find_counter(const std::vector<wire::Counter>& counters,
                                          std::string_view name);

}  // namespace inca::manager
