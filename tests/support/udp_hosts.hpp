// Emulated hosts over kernel UDP sockets: host i owns a socket in network
// namespace i and runs the SDK's sans-I/O protocol::HostEndpoint, so the
// packets an inca-switch sees are exactly what a real rank sends. One thread
// drives every host (poll over their sockets), which keeps tests
// deterministic in structure and free of locks.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "inca/status.hpp"
#include "protocol/host_endpoint.hpp"
#include "support/netns.hpp"
#include "wire/header.hpp"
#include "wire/packet.hpp"

namespace inca::test {

/// One host's part of an in-network all-reduce.
struct HostBuffers {
  const void* send = nullptr;
  void* recv = nullptr;
};

struct AllreduceSpec {
  std::uint16_t tree = 0;
  std::uint32_t window = 8;
  std::uint32_t slot_payload_bytes = 256;
  std::vector<std::uint16_t> child_index;  ///< per host
  std::size_t count = 0;
  Dtype dtype = Dtype::i32;
  ReduceOp op = ReduceOp::sum;
  std::uint8_t flags = 0;
};

class UdpHosts {
 public:
  /// Hosts in `namespaces` (one each); host i sends to switch_ips[i]:udp_port
  /// (its leaf switch).
  UdpHosts(const std::vector<std::string>& namespaces, const std::vector<std::string>& switch_ips,
           std::uint16_t udp_port, std::uint32_t job, std::uint32_t key_tag) {
    for (const std::string& ip : switch_ips) {
      sockaddr_in sa{};
      ::inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
      sa.sin_family = AF_INET;
      sa.sin_port = htons(udp_port);
      switch_addr_.push_back(sa);
    }
    std::vector<wire::Address> addresses;
    for (std::size_t i = 0; i < namespaces.size(); ++i)
      addresses.push_back(static_cast<wire::Address>(i));
    for (std::size_t i = 0; i < namespaces.size(); ++i) {
      protocol::EndpointConfig cfg;
      cfg.rank = static_cast<std::uint32_t>(i);
      cfg.address = static_cast<wire::Address>(i);
      cfg.rank_address = addresses;
      cfg.job = job;
      cfg.key_tag = key_tag;
      // Generous: the switch shares two cores with every other process.
      cfg.retransmit_timeout = 50 * kPicosPerMilli;
      cfg.max_retransmits = 10;
      endpoints_.push_back(std::make_unique<protocol::HostEndpoint>(cfg));
      fds_.push_back(socket_in_netns(namespaces[i], AF_INET, SOCK_DGRAM, 0));
    }
  }
  UdpHosts(const UdpHosts&) = delete;
  UdpHosts& operator=(const UdpHosts&) = delete;
  ~UdpHosts() {
    for (int fd : fds_)
      if (fd >= 0) ::close(fd);
  }

  /// "" when every socket was opened.
  std::string error() const {
    for (std::size_t i = 0; i < fds_.size(); ++i)
      if (fds_[i] < 0) return fmt::format("no socket for host {}", i);
    return "";
  }
  int fd(std::size_t host) const { return fds_[host]; }
  const protocol::HostEndpoint& endpoint(std::size_t host) const { return *endpoints_[host]; }
  std::uint64_t undecodable() const { return undecodable_; }

  /// Sends raw UDP payload bytes from host `host` to the switch.
  void send_raw(std::size_t host, std::span<const std::byte> bytes) const {
    ::sendto(fds_[host], bytes.data(), bytes.size(), 0,
             reinterpret_cast<const sockaddr*>(&switch_addr_[host]), sizeof(sockaddr_in));
  }

  /// Runs one all-reduce on every host at once until all finish or
  /// `timeout` passes. `tick` (optional) runs on every loop turn, e.g. to
  /// inject traffic while the operation is in flight.
  Status allreduce(const AllreduceSpec& spec, const std::vector<HostBuffers>& buffers,
                   std::chrono::milliseconds timeout, const std::function<void()>& tick = {}) {
    const std::size_t n = endpoints_.size();
    std::vector<protocol::OpId> ops(n);
    protocol::Outbox out;
    for (std::size_t i = 0; i < n; ++i) {
      protocol::InnetAllreduce op;
      op.tree = spec.tree;
      op.child_index = spec.child_index[i];
      op.window = spec.window;
      op.slot_payload_bytes = spec.slot_payload_bytes;
      op.send = buffers[i].send;
      op.recv = buffers[i].recv;
      op.count = spec.count;
      op.dtype = spec.dtype;
      op.op = spec.op;
      op.flags = spec.flags;
      auto id = endpoints_[i]->start_innet(op, now(), out);
      if (!id) return id.status();
      ops[i] = *id;
      transmit(i, out);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<pollfd> pfds;
    for (int fd : fds_) pfds.push_back({fd, POLLIN, 0});
    std::vector<std::byte> buf(65536);
    while (true) {
      bool all_done = true;
      for (std::size_t i = 0; i < n; ++i) all_done = all_done && endpoints_[i]->done(ops[i]);
      if (all_done) break;
      if (std::chrono::steady_clock::now() > deadline)
        return make_error(StatusCode::timeout, "all-reduce over the switch did not finish");
      ::poll(pfds.data(), pfds.size(), 2);
      for (std::size_t i = 0; i < n; ++i) {
        ssize_t got;
        while ((got = ::recv(fds_[i], buf.data(), buf.size(), MSG_DONTWAIT)) > 0) {
          wire::Packet p;
          std::span<const std::byte> payload;
          if (wire::decode(std::span<const std::byte>(buf.data(), static_cast<std::size_t>(got)),
                           p.header, payload) != wire::DecodeError::none) {
            ++undecodable_;
            continue;
          }
          p.payload = wire::make_payload(payload);
          endpoints_[i]->on_packet(p, now(), out);
          transmit(i, out);
        }
        endpoints_[i]->on_timer(now(), out);
        transmit(i, out);
      }
      if (tick) tick();
    }
    for (std::size_t i = 0; i < n; ++i) {
      Status s = endpoints_[i]->status(ops[i]);
      endpoints_[i]->release(ops[i]);
      if (!s.ok()) return make_error(s.code(), fmt::format("host {}: {}", i, s.message()));
    }
    return {};
  }

  static Time now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
               .count() *
           kPicosPerNano;
  }

 private:
  void transmit(std::size_t host, protocol::Outbox& out) {
    std::vector<std::byte> bytes;
    for (const wire::Packet& p : out) {
      bytes.resize(wire::kHeaderBytes + p.payload_bytes());
      if (wire::encode(p.header, p.payload_span(), bytes) != 0) send_raw(host, bytes);
    }
    out.clear();
  }

  std::vector<sockaddr_in> switch_addr_;
  std::vector<std::unique_ptr<protocol::HostEndpoint>> endpoints_;
  std::vector<int> fds_;
  std::uint64_t undecodable_ = 0;
};

}  // namespace inca::test
