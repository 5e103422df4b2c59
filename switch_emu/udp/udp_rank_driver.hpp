// A rank as an ordinary process on a kernel UDP socket: the HostDriver that
// moves its HostEndpoint's packets to an inca-switch (contributions) and to
// its peers' sockets (point-to-point data and acks, switched at layer 2 on
// the way). While the rank waits, the driver sleeps in ppoll until a
// datagram arrives or the endpoint's next timer is due: it never spins.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "inca/status.hpp"
#include "protocol/host_driver.hpp"
#include "protocol/host_endpoint.hpp"

namespace inca::udp {

struct UdpDriverConfig {
  protocol::EndpointConfig endpoint;
  sockaddr_in bind{};              ///< this rank's address (its entry of the peers)
  sockaddr_in switch_address{};    ///< where contributions go
  std::vector<sockaddr_in> peers;  ///< every rank's address, by rank
  std::string netns;               ///< namespace of the socket ("": this process's)
  /// A wait in which no datagram arrives for this long gives up (a peer or
  /// the switch is gone): the UDP fabric cannot see that every rank is
  /// blocked, as the simulator can, so silence is its only hint.
  Time idle_timeout = 5 * kPicosPerSecond;
};

class UdpRankDriver final : public protocol::HostDriver {
 public:
  /// Opens and binds the socket; io_error naming the address when it cannot.
  static Result<std::unique_ptr<UdpRankDriver>> open(UdpDriverConfig config);
  ~UdpRankDriver() override;
  UdpRankDriver(const UdpRankDriver&) = delete;
  UdpRankDriver& operator=(const UdpRankDriver&) = delete;

  /// Wall-clock time since the driver was opened.
  Time now() const override;
  protocol::HostEndpoint& endpoint() override { return endpoint_; }
  void transmit(protocol::Outbox& out) override;
  bool block_until(const std::function<bool()>& ready, Time deadline) override;
  std::string stall_reason() const override;
  /// Keeps feeding arriving datagrams to the endpoint (acknowledging what a
  /// peer retransmits) until none came for `quiet`.
  void linger(Time quiet);

  /// Datagrams received that were no valid inca packet, and sends that failed.
  std::uint64_t undecodable() const { return undecodable_; }
  std::uint64_t send_errors() const { return send_errors_; }

 private:
  UdpRankDriver(UdpDriverConfig config, int fd);
  /// Feeds every datagram waiting on the socket to the endpoint; true when any came.
  bool drain();

  UdpDriverConfig config_;
  int fd_;
  std::chrono::steady_clock::time_point epoch_;
  protocol::HostEndpoint endpoint_;
  protocol::Outbox outbox_;  // what the endpoint answers with
  // kBatch datagrams in flight through one recvmmsg or sendmmsg call.
  std::vector<std::vector<std::byte>> buffers_;
  std::vector<iovec> iovs_;
  std::vector<mmsghdr> msgs_;
  std::uint64_t undecodable_ = 0;
  std::uint64_t send_errors_ = 0;
};

}  // namespace inca::udp
