// A rank as an ordinary process on a kernel UDP socket: the HostDriver that
// moves its HostEndpoint's packets to an inca-switch (contributions) and to
// its peers' sockets (point-to-point data and acks, switched at layer 2 on
// the way). While the rank waits, the driver sleeps in ppoll until a
// datagram arrives or the endpoint's next timer is due: it never spins.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "inca/status.hpp"
#include "protocol/host_endpoint.hpp"
#include "udp/datagram_rank_driver.hpp"

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

class UdpRankDriver final : public DatagramRankDriver {
 public:
  /// Opens and binds the socket; io_error naming the address when it cannot.
  static Result<std::unique_ptr<UdpRankDriver>> open(UdpDriverConfig config);
  ~UdpRankDriver() override;
  UdpRankDriver(const UdpRankDriver&) = delete;
  UdpRankDriver& operator=(const UdpRankDriver&) = delete;

  void transmit(protocol::Outbox& out) override;

 private:
  UdpRankDriver(UdpDriverConfig config, int fd);
  bool drain() override;
  /// ppoll until the socket is readable or `wait` passed: a waiting rank never spins.
  void wait_for_datagram(Time wait) override;

  UdpDriverConfig config_;
  int fd_;
  // kBatch datagrams in flight through one recvmmsg or sendmmsg call.
  std::vector<std::vector<std::byte>> buffers_;
  std::vector<iovec> iovs_;
  std::vector<mmsghdr> msgs_;
};

}  // namespace inca::udp
