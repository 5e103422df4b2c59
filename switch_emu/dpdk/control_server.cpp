#include "dpdk/control_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "manager/switch_control_client.hpp"

namespace inca::dpdk_switch {
namespace {

Status errno_status(std::string_view what) {
  return make_error(StatusCode::io_error, fmt::format("{}: {}", what, std::strerror(errno)));
}

}  // namespace

Result<ControlServer> ControlServer::listen(std::string_view address) {
  auto parsed = manager::parse_control_address(address);
  if (!parsed) return parsed.status();
  auto ip = wire::parse_ipv4(parsed->host == "localhost" ? "127.0.0.1" : parsed->host);
  if (!ip) return ip.status();
  const std::string what = fmt::format("control channel on {}", address);

  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_status(what);
  ControlServer server(fd, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(parsed->port);
  sa.sin_addr.s_addr = htonl(*ip);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0)
    return errno_status(what);
  if (::listen(fd, 16) != 0) return errno_status(what);
  socklen_t len = sizeof(sa);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return errno_status(what);
  server.port_ = ntohs(sa.sin_port);
  return server;
}

ControlServer::ControlServer(ControlServer&& other) noexcept
    : listen_fd_(other.listen_fd_),
      port_(other.port_),
      clients_(std::move(other.clients_)),
      malformed_(other.malformed_) {
  other.listen_fd_ = -1;
  other.clients_.clear();
}

ControlServer& ControlServer::operator=(ControlServer&& other) noexcept {
  if (this != &other) {
    close_all();
    listen_fd_ = other.listen_fd_;
    port_ = other.port_;
    clients_ = std::move(other.clients_);
    malformed_ = other.malformed_;
    other.listen_fd_ = -1;
    other.clients_.clear();
  }
  return *this;
}

ControlServer::~ControlServer() {
  close_all();
}

void ControlServer::close_all() {
  for (Client& c : clients_)
    if (c.fd >= 0) ::close(c.fd);
  clients_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void ControlServer::poll(const Handler& handler) {
  if (listen_fd_ < 0) return;
  std::vector<pollfd> fds;
  fds.push_back({listen_fd_, POLLIN, 0});
  for (const Client& c : clients_)
    fds.push_back({c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
  if (::poll(fds.data(), fds.size(), 0) <= 0) return;
  // Serve the clients polled above before accepting new ones (which would
  // shift nothing, but keeps fds[i + 1] <-> clients_[i]).
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    const short ev = fds[i + 1].revents;
    if (ev & (POLLIN | POLLHUP | POLLERR)) read_client(clients_[i], handler);
    if (clients_[i].fd >= 0) write_client(clients_[i]);
  }
  std::erase_if(clients_, [](const Client& c) { return c.fd < 0; });
  if (fds[0].revents & POLLIN) accept_clients();
}

void ControlServer::accept_clients() {
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (clients_.size() >= kMaxClients) {
      ::close(fd);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    clients_.push_back(Client{fd, {}, {}, false});
  }
}

void ControlServer::read_client(Client& c, const Handler& handler) {
  std::byte buf[16384];
  while (c.fd >= 0 && !c.closing) {
    const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      ::close(c.fd);
      c.fd = -1;
      return;
    }
    if (n < 0) break;
    c.in.insert(c.in.end(), buf, buf + n);
    // Serve every whole frame buffered so far.
    while (!c.closing) {
      auto size = wire::control_frame_size(c.in);
      if (!size) {
        reject(c, c.in, size.status());
        c.closing = true;  // the stream cannot be resynchronised
        break;
      }
      if (*size == 0) break;
      const std::span<const std::byte> frame(c.in.data(), *size);
      auto request = wire::decode_control_request(frame);
      if (request)
        answer(c, handler(*request));
      else
        reject(c, frame, request.status());
      c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(*size));
    }
  }
  if (c.fd >= 0 && c.out.size() > kMaxPendingOutput) {
    ::close(c.fd);
    c.fd = -1;
  }
}

void ControlServer::answer(Client& c, const wire::ControlReply& reply) {
  auto frame = wire::encode_control(reply);
  if (!frame) {
    // The handler produced something the channel cannot carry: say so.
    wire::ControlReply error{
        reply.id, reply.kind, make_error(StatusCode::internal, frame.status().message()), {}};
    frame = wire::encode_control(error);
    if (!frame) return;
  }
  c.out.insert(c.out.end(), frame->begin(), frame->end());
}

void ControlServer::reject(Client& c, std::span<const std::byte> frame, const Status& why) {
  ++malformed_;
  // Echo the request id and kind when they are readable, so the client can
  // match the error to its request.
  wire::ControlReply reply;
  reply.kind = wire::ControlKind::ping;
  if (frame.size() >= wire::kControlLengthBytes + wire::kControlMinBodyBytes) {
    const auto kind = std::to_integer<std::uint8_t>(frame[5]);
    if (kind >= 1 && kind <= static_cast<std::uint8_t>(wire::kLastControlKind))
      reply.kind = static_cast<wire::ControlKind>(kind);
    for (std::size_t i = 6; i < 10; ++i)
      reply.id = (reply.id << 8) | std::to_integer<std::uint8_t>(frame[i]);
  }
  std::string message = why.message();
  if (message.size() > wire::kControlMaxStringBytes) message.resize(wire::kControlMaxStringBytes);
  reply.status = make_error(StatusCode::malformed_packet, std::move(message));
  answer(c, reply);
}

void ControlServer::write_client(Client& c) {
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out.erase(c.out.begin(), c.out.begin() + n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    ::close(c.fd);
    c.fd = -1;
    return;
  }
  if (c.closing) {
    ::close(c.fd);
    c.fd = -1;
  }
}

}  // namespace inca::dpdk_switch
