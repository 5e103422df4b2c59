// A blocking control-channel client over a non-blocking socket: every wait is
// a poll() bounded by the caller's deadline, so a dead or hostile switch
// costs at most one timeout, never a hang.
#include "manager/switch_control_client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace inca::manager {
namespace {

using Clock = std::chrono::steady_clock;

Status errno_status(std::string_view what, int err) {
  return make_error(StatusCode::io_error, fmt::format("{}: {}", what, std::strerror(err)));
}

// Waits until `fd` is ready for `events` or the deadline passes.
Status wait_for(int fd, short events, Clock::time_point deadline, std::string_view what) {
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return make_error(StatusCode::timeout, fmt::format("{}: timed out", what));
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status(what, errno);
    if (n > 0) return {};
  }
}

}  // namespace

Result<ControlAddress> parse_control_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return make_error(StatusCode::invalid_argument,
                      fmt::format("control address '{}' is not HOST:PORT", text));
  unsigned port = 0;
  const std::string_view digits = text.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port > 65535)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("control address '{}': '{}' is not a port number", text, digits));
  return ControlAddress{std::string(text.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

Result<SwitchControlClient> SwitchControlClient::connect(std::string_view address,
                                                         Duration timeout) {
  auto parsed = parse_control_address(address);
  if (!parsed) return parsed.status();
  if (parsed->port == 0)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("control address '{}' has port 0", address));
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(parsed->port);
  if (const int rc = ::getaddrinfo(parsed->host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("control address '{}': {}", address, ::gai_strerror(rc)));
  sockaddr_in target{};
  std::memcpy(&target, found->ai_addr, sizeof(target));
  ::freeaddrinfo(found);

  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_status("control socket", errno);
  SwitchControlClient client(fd, std::string(address), timeout);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const std::string what = fmt::format("connect to switch control {}", address);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&target), sizeof(target)) != 0) {
    if (errno != EINPROGRESS) return errno_status(what, errno);
    INCA_RETURN_IF_ERROR(wait_for(fd, POLLOUT, Clock::now() + timeout, what));
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return errno_status(what, err);
  }
  return client;
}

SwitchControlClient::SwitchControlClient(int fd, std::string address, Duration timeout)
    : fd_(fd), address_(std::move(address)), timeout_(timeout) {}

SwitchControlClient::SwitchControlClient(SwitchControlClient&& other) noexcept
    : fd_(other.fd_),
      address_(std::move(other.address_)),
      timeout_(other.timeout_),
      next_id_(other.next_id_) {
  other.fd_ = -1;
}

SwitchControlClient& SwitchControlClient::operator=(SwitchControlClient&& other) noexcept {
  if (this != &other) {
    close_socket();
    fd_ = other.fd_;
    address_ = std::move(other.address_);
    timeout_ = other.timeout_;
    next_id_ = other.next_id_;
    other.fd_ = -1;
  }
  return *this;
}

SwitchControlClient::~SwitchControlClient() {
  close_socket();
}

void SwitchControlClient::close_socket() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<wire::ControlReply> SwitchControlClient::call(wire::ControlRequestBody body) {
  if (fd_ < 0)
    return make_error(
        StatusCode::io_error,
        fmt::format("switch control {}: connection closed after an earlier error", address_));
  wire::ControlRequest request{next_id_++, std::move(body)};
  auto frame = wire::encode_control(request);
  if (!frame) return frame.status();
  const std::string what =
      fmt::format("switch control {} ({})", address_, wire::to_string(request.kind()));
  const auto deadline = Clock::now() + timeout_;
  // Any failure leaves the stream at an unknown frame boundary: close it.
  auto fail = [&](Status s) -> Result<wire::ControlReply> {
    close_socket();
    return s;
  };

  std::size_t sent = 0;
  while (sent < frame->size()) {
    const ssize_t n = ::send(fd_, frame->data() + sent, frame->size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (Status s = wait_for(fd_, POLLOUT, deadline, what); !s.ok()) return fail(s);
    } else if (n < 0 && errno != EINTR) {
      return fail(errno_status(what, errno));
    }
  }

  std::vector<std::byte> in;
  std::byte buf[4096];
  while (true) {
    auto size = wire::control_frame_size(in);
    if (!size) return fail(size.status());
    if (*size != 0) {
      if (*size != in.size())
        return fail(make_error(StatusCode::malformed_packet,
                               fmt::format("{}: the switch sent bytes after its reply", what)));
      break;
    }
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      in.insert(in.end(), buf, buf + n);
    } else if (n == 0) {
      return fail(make_error(StatusCode::io_error, fmt::format("{}: connection closed", what)));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (Status s = wait_for(fd_, POLLIN, deadline, what); !s.ok()) return fail(s);
    } else if (errno != EINTR) {
      return fail(errno_status(what, errno));
    }
  }
  auto reply = wire::decode_control_reply(in);
  if (!reply) return fail(reply.status());
  if (reply->id != request.id || reply->kind != request.kind())
    return fail(make_error(StatusCode::malformed_packet,
                           fmt::format("{}: reply {} ({}) does not answer request {}", what,
                                       reply->id, wire::to_string(reply->kind), request.id)));
  return reply;
}

Result<wire::SwitchInfo> SwitchControlClient::ping() {
  auto reply = call(wire::PingRequest{});
  if (!reply) return reply.status();
  if (!reply->status.ok()) return reply->status;
  return std::get<wire::SwitchInfo>(std::move(reply->body));
}

Status SwitchControlClient::install(const wire::TreeInstall& tree) {
  auto reply = call(tree);
  return reply ? reply->status : reply.status();
}

Status SwitchControlClient::remove(const wire::TreeRemove& tree) {
  auto reply = call(tree);
  return reply ? reply->status : reply.status();
}

Status SwitchControlClient::set_neighbor(const wire::NeighborAddress& neighbor) {
  auto reply = call(neighbor);
  return reply ? reply->status : reply.status();
}

Result<std::vector<wire::Counter>> SwitchControlClient::counters() {
  auto reply = call(wire::CountersRequest{});
  if (!reply) return reply.status();
  if (!reply->status.ok()) return reply->status;
  return std::get<std::vector<wire::Counter>>(std::move(reply->body));
}

Result<wire::QpInfo> SwitchControlClient::connect_qp(const wire::QpConnect& qp) {
  auto reply = call(qp);
  if (!reply) return reply.status();
  if (!reply->status.ok()) return reply->status;
  return std::get<wire::QpInfo>(reply->body);
}

Status SwitchControlClient::disconnect_qp(std::uint32_t qpn) {
  auto reply = call(wire::QpDisconnect{qpn});
  return reply ? reply->status : reply.status();
}

std::optional<std::uint64_t> find_counter(const std::vector<wire::Counter>& counters,
                                          std::string_view name) {
  for (const auto& c : counters)
    if (c.name == name) return c.value;
  return std::nullopt;
}

}  // namespace inca::manager
