#include "rendezvous.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "udp/bootstrap.hpp"
#include "wire/control_codec.hpp"

namespace inca::verbs {
namespace {

constexpr std::uint32_t kMagic = 0x494e4341;  // "INCA"
constexpr std::size_t kRequestHead = 20;

Status io_error(std::string_view what) {
  return make_error(StatusCode::io_error, fmt::format("{}: {}", what, std::strerror(errno)));
}

void set_timeout(int fd, int option, Time t) {
  const long us = std::max<long>(1, static_cast<long>(t / kPicosPerMicro));
  const timeval tv{us / 1000000, us % 1000000};
  ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv));
}

bool send_all(int fd, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

bool recv_all(int fd, std::span<std::byte> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::recv(fd, bytes.data(), bytes.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

void put32(std::vector<std::byte>& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}

std::uint32_t get32(std::span<const std::byte> b, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(b[at + i]);
  return v;
}

}  // namespace

Result<std::unique_ptr<RendezvousServer>> RendezvousServer::start(std::uint32_t ranks,
                                                                  std::string_view host) {
  auto ip = wire::parse_ipv4(host);
  if (!ip) return ip.status();
  if (ranks == 0) return make_error(StatusCode::invalid_argument, "rendezvous for no rank");
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return io_error("rendezvous socket");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(*ip);
  socklen_t len = sizeof(sa);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(fd, 256) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    const Status s = io_error("rendezvous listen");
    ::close(fd);
    return s;
  }
  return std::unique_ptr<RendezvousServer>(new RendezvousServer(
      fd, ranks, fmt::format("{}:{}", wire::format_ipv4(*ip), ntohs(sa.sin_port))));
}

RendezvousServer::RendezvousServer(int fd, std::uint32_t ranks, std::string address)
    : fd_(fd), ranks_(ranks), address_(std::move(address)), thread_([this] { serve(); }) {}

RendezvousServer::~RendezvousServer() {
  stop_ = true;
  thread_.join();
  for (auto& [round, r] : rounds_)
    for (int c : r.clients)
      if (c >= 0) ::close(c);
  ::close(fd_);
}

void RendezvousServer::serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    // A rank sends its request right after connecting; one that stalls is dropped.
    set_timeout(client, SO_RCVTIMEO, 2 * kPicosPerSecond);
    set_timeout(client, SO_SNDTIMEO, 2 * kPicosPerSecond);
    take(client);
  }
}

void RendezvousServer::take(int client) {
  std::byte head[kRequestHead];
  const auto refuse = [&] {
    ++refused_;
    ::close(client);
  };
  if (!recv_all(client, head)) return refuse();
  const std::uint32_t round = get32(head, 4), rank = get32(head, 8), ranks = get32(head, 12);
  const std::uint32_t length = get32(head, 16);
  if (get32(head, 0) != kMagic || ranks != ranks_ || rank >= ranks_ || length > kMaxBlobBytes)
    return refuse();
  Blob blob(length);
  if (!recv_all(client, blob)) return refuse();
  Round& r = rounds_[round];
  if (r.clients.empty()) {
    r.clients.assign(ranks_, -1);
    r.blobs.resize(ranks_);
  }
  if (r.clients[rank] >= 0) return refuse();
  r.clients[rank] = client;
  r.blobs[rank] = std::move(blob);
  if (++r.arrived < ranks_) return;
  std::vector<std::byte> reply;
  put32(reply, ranks_);
  for (const Blob& b : r.blobs) {
    put32(reply, static_cast<std::uint32_t>(b.size()));
    reply.insert(reply.end(), b.begin(), b.end());
  }
  for (int c : r.clients) {
    send_all(c, reply);
    ::close(c);
  }
  rounds_.erase(round);
}

Result<std::vector<Blob>> rendezvous_allgather(std::string_view address, std::uint32_t round,
                                               std::uint32_t rank, std::uint32_t ranks,
                                               std::span<const std::byte> blob, Time timeout) {
  auto target = udp::parse_ipv4_port(address);
  if (!target) return target.status();
  if (blob.size() > kMaxBlobBytes || rank >= ranks)
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("rendezvous: rank {} of {} with {} bytes", rank, ranks, blob.size()));
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return io_error("rendezvous socket");
  set_timeout(fd, SO_SNDTIMEO, timeout);
  set_timeout(fd, SO_RCVTIMEO, timeout);
  const auto fail = [&](StatusCode code, const std::string& what) {
    const Status s = code == StatusCode::io_error ? io_error(what) : make_error(code, what);
    ::close(fd);
    return s;
  };
  const std::string where = fmt::format("rendezvous {} round {}", address, round);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&*target), sizeof(*target)) != 0)
    return fail(StatusCode::io_error, "connect to " + where);
  std::vector<std::byte> request;
  for (std::uint32_t v : {kMagic, round, rank, ranks, static_cast<std::uint32_t>(blob.size())})
    put32(request, v);
  request.insert(request.end(), blob.begin(), blob.end());
  if (!send_all(fd, request)) return fail(StatusCode::io_error, "send to " + where);
  std::byte word[4];
  if (!recv_all(fd, word))
    return fail(StatusCode::timeout, fmt::format("{}: not every rank arrived within {} ms", where,
                                                 timeout / kPicosPerMilli));
  if (get32(word, 0) != ranks)
    return fail(StatusCode::malformed_packet, where + ": a reply for another job size");
  std::vector<Blob> blobs(ranks);
  for (Blob& b : blobs) {
    if (!recv_all(fd, word) || get32(word, 0) > kMaxBlobBytes)
      return fail(StatusCode::malformed_packet, where + ": truncated reply");
    b.resize(get32(word, 0));
    if (!recv_all(fd, b)) return fail(StatusCode::malformed_packet, where + ": truncated reply");
  }
  ::close(fd);
  return blobs;
}

OobAllgather rendezvous(std::string address, std::uint32_t rank, std::uint32_t ranks, Time timeout,
                        std::uint32_t first_round) {
  auto round = std::make_shared<std::uint32_t>(first_round);
  return
      [address = std::move(address), rank, ranks, timeout, round](std::span<const std::byte> blob) {
        return rendezvous_allgather(address, (*round)++, rank, ranks, blob, timeout);
      };
}

}  // namespace inca::verbs
