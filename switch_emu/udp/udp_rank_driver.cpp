#include "udp/udp_rank_driver.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "udp/netns.hpp"
#include "wire/header.hpp"

namespace inca::udp {
namespace {

std::string to_string(const sockaddr_in& sa) {
  char ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
  return fmt::format("{}:{}", ip, ntohs(sa.sin_port));
}

// Datagrams moved per recvmmsg / sendmmsg call.
constexpr std::size_t kBatch = 32;
// Socket buffers large enough for a window of chunks and a burst of
// point-to-point fragments: a datagram dropped here costs a timeout.
constexpr int kSocketBufferBytes = 8 << 20;

}  // namespace

Result<std::unique_ptr<UdpRankDriver>> UdpRankDriver::open(UdpDriverConfig config) {
  const int fd = config.netns.empty() ? ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)
                                      : socket_in_netns(config.netns, AF_INET, SOCK_DGRAM, 0);
  if (fd < 0)
    return make_error(StatusCode::io_error,
                      fmt::format("no UDP socket{}: {}",
                                  config.netns.empty() ? "" : " in namespace " + config.netns,
                                  std::strerror(errno)));
  const int one = 1;
  // Host-to-host datagrams cross veths whose checksum offload nobody
  // performs (docs/fabrics.md, "veth quirks"): send them without one.
  ::setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one));
  for (int opt : {SO_RCVBUFFORCE, SO_SNDBUFFORCE}) {
    if (::setsockopt(fd, SOL_SOCKET, opt, &kSocketBufferBytes, sizeof(int)) != 0)
      ::setsockopt(fd, SOL_SOCKET, opt == SO_RCVBUFFORCE ? SO_RCVBUF : SO_SNDBUF,
                   &kSocketBufferBytes, sizeof(int));
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&config.bind), sizeof(sockaddr_in)) != 0) {
    const int err = errno;
    ::close(fd);
    return make_error(
        StatusCode::io_error,
        fmt::format("cannot bind UDP {}: {}", to_string(config.bind), std::strerror(err)));
  }
  return std::unique_ptr<UdpRankDriver>(new UdpRankDriver(std::move(config), fd));
}

UdpRankDriver::UdpRankDriver(UdpDriverConfig config, int fd)
    : DatagramRankDriver(config.endpoint, config.idle_timeout),
      config_(std::move(config)),
      fd_(fd),
      buffers_(kBatch, std::vector<std::byte>(kDatagramBytes)),
      iovs_(kBatch),
      msgs_(kBatch) {}

UdpRankDriver::~UdpRankDriver() {
  ::close(fd_);
}

void UdpRankDriver::transmit(protocol::Outbox& out) {
  std::size_t n = 0;
  // A send that fails (a full buffer, an unreachable peer) is a lost
  // packet, which the endpoint's retransmissions repair.
  auto flush = [&] {
    for (std::size_t sent = 0; sent < n;) {
      const int got = ::sendmmsg(fd_, msgs_.data() + sent, static_cast<unsigned>(n - sent), 0);
      if (got > 0) {
        sent += static_cast<std::size_t>(got);
      } else {
        ++send_errors_;  // skip the datagram that failed
        ++sent;
      }
    }
    n = 0;
  };
  for (const wire::Packet& p : out) {
    // Contributions go to the switch; point-to-point traffic to the peer
    // (the switch forwards it at layer 2).
    const sockaddr_in* to = &config_.switch_address;
    if (addressed_to_peer(p)) {
      if (p.dst >= config_.peers.size()) {
        ++send_errors_;
        continue;
      }
      to = &config_.peers[p.dst];
    }
    const std::size_t bytes = wire::encode(p.header, p.payload_span(), buffers_[n]);
    if (bytes == 0) {
      ++send_errors_;
      continue;
    }
    iovs_[n] = {buffers_[n].data(), bytes};
    msgs_[n] = {};
    msgs_[n].msg_hdr.msg_name = const_cast<sockaddr_in*>(to);
    msgs_[n].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    msgs_[n].msg_hdr.msg_iov = &iovs_[n];
    msgs_[n].msg_hdr.msg_iovlen = 1;
    if (++n == kBatch) flush();
  }
  flush();
  out.clear();
}

bool UdpRankDriver::drain() {
  bool any = false;
  while (true) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      iovs_[i] = {buffers_[i].data(), buffers_[i].size()};
      msgs_[i] = {};
      msgs_[i].msg_hdr.msg_iov = &iovs_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    const int got = ::recvmmsg(fd_, msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (got <= 0) return any;
    any = true;
    const Time t = now();
    for (int i = 0; i < got; ++i)
      deliver(std::span<const std::byte>(buffers_[i].data(), msgs_[i].msg_len), t);
    // The answers to the whole batch leave together (the buffers are free:
    // every payload was copied out).
    transmit(outbox_);
  }
}

void UdpRankDriver::wait_for_datagram(Time wait) {
  timespec ts{static_cast<time_t>(wait / kPicosPerSecond),
              static_cast<long>((wait % kPicosPerSecond) / kPicosPerNano)};
  pollfd pfd{fd_, POLLIN, 0};
  ::ppoll(&pfd, 1, &ts, nullptr);
}

}  // namespace inca::udp
