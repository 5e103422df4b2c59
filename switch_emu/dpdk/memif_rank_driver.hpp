// A rank as an ordinary process whose packets go through a DPDK memif port:
// the HostDriver of the `memif` fabric. The process initialises its own EAL
// (no hugepages, a file prefix of its own, one lcore that may run on any
// CPU), connects one net_memif client to a memif server port of an
// inca-switch, and frames its inca packets in the Ethernet/IPv4/UDP the
// switch expects. Contributions go to the switch (which takes inca
// datagrams whatever their destination MAC); point-to-point data and acks go
// to the peer's MAC, IPv4 address and port, switched at layer 2. Addresses
// are static (the launcher hands every rank all MACs): the switch learns a
// rank's MAC from its first frame and its child address from its first
// accepted contribution, so no ARP is needed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dpdk/frame.hpp"
#include "dpdk/interrupt_gate.hpp"
#include "inca/status.hpp"
#include "udp/datagram_rank_driver.hpp"

struct rte_mempool;
struct rte_mbuf;

namespace inca::memif {

struct MemifDriverConfig {
  protocol::EndpointConfig endpoint;
  std::string socket;                           ///< the switch port's memif socket
  std::string eal_prefix;                       ///< EAL --file-prefix, unique per process
  dpdk_switch::UdpEndpoint self;                ///< this rank's MAC, IPv4 and UDP port
  dpdk_switch::UdpEndpoint switch_address;      ///< where contributions go
  std::vector<dpdk_switch::UdpEndpoint> peers;  ///< every rank, by rank
  Time idle_timeout = 5 * kPicosPerSecond;      ///< see DatagramRankDriver
  /// How long open() waits for the memif link to come up.
  Time link_timeout = 10 * kPicosPerSecond;
};

class MemifRankDriver final : public udp::DatagramRankDriver {
 public:
  /// Initialises the EAL (once per process: a second driver is refused),
  /// starts the memif port, waits for its link and gates the EAL interrupt
  /// thread (the switch may leave while the rank polls); io_error saying
  /// why not.
  static Result<std::unique_ptr<MemifRankDriver>> open(MemifDriverConfig config);
  /// Stops the port, cleans the EAL up and removes its runtime directory.
  ~MemifRankDriver() override;
  MemifRankDriver(const MemifRankDriver&) = delete;
  MemifRankDriver& operator=(const MemifRankDriver&) = delete;

  void transmit(protocol::Outbox& out) override;

 private:
  MemifRankDriver(MemifDriverConfig config, rte_mempool* pool, std::uint16_t port,
                  std::unique_ptr<dpdk_switch::InterruptGate> gate);
  bool drain() override;
  /// Yields the CPU for the first idle polls, then sleeps (see the .cpp).
  void wait_for_datagram(Time wait) override;
  /// Sends tx_[0..n) (retrying a full ring briefly, then dropping the rest).
  void flush(std::size_t n);

  MemifDriverConfig config_;
  rte_mempool* pool_;
  std::uint16_t port_;
  std::unique_ptr<dpdk_switch::InterruptGate> gate_;  // memif's callbacks run only between bursts
  std::vector<rte_mbuf*> tx_;
  std::vector<rte_mbuf*> rx_;
  std::vector<std::byte> scratch_;  // a chained frame, copied out whole
  std::uint32_t idle_polls_ = 0;    // empty polls since the last datagram
};

}  // namespace inca::memif
