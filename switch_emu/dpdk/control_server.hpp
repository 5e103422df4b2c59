// The switch's end of the control channel: a non-blocking TCP listener that
// the data-plane loop polls between bursts, so control requests run on the
// same thread as the engine and need no locks. Frames are
// wire/control_codec.hpp; a peer that breaks framing is answered with an
// error and disconnected, one that sends a malformed request gets an error
// reply and may go on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "inca/status.hpp"
#include "wire/control_codec.hpp"

namespace inca::dpdk_switch {

class ControlServer {
 public:
  using Handler = std::function<wire::ControlReply(const wire::ControlRequest&)>;
  static constexpr std::size_t kMaxClients = 16;
  /// A client that does not read its replies is dropped past this backlog.
  static constexpr std::size_t kMaxPendingOutput = 4 * 1024 * 1024;

  /// Listens on "ADDR:PORT" (IPv4; port 0 picks a free port).
  static Result<ControlServer> listen(std::string_view address);

  ControlServer(ControlServer&& other) noexcept;
  ControlServer& operator=(ControlServer&& other) noexcept;
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  ~ControlServer();

  /// The port actually bound.
  std::uint16_t port() const { return port_; }
  /// Accepts, reads and answers whatever is ready, without blocking.
  void poll(const Handler& handler);
  /// Frames that failed to decode since start.
  std::uint64_t malformed() const { return malformed_; }

 private:
  struct Client {
    int fd = -1;
    std::vector<std::byte> in;
    std::vector<std::byte> out;
    bool closing = false;  ///< flush `out`, then close
  };
  explicit ControlServer(int fd, std::uint16_t port) : listen_fd_(fd), port_(port) {}
  void accept_clients();
  void read_client(Client& c, const Handler& handler);
  void write_client(Client& c);
  void answer(Client& c, const wire::ControlReply& reply);
  void reject(Client& c, std::span<const std::byte> frame, const Status& why);
  void close_all();

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<Client> clients_;
  std::uint64_t malformed_ = 0;
};

}  // namespace inca::dpdk_switch
