// inca-loadgen: N emulated hosts on DPDK ports (memif clients of a running
// inca-switch), used to measure the switch. Phases on the same ports:
// - forwarding: plain layer-2 frames from port i to port i+1, open loop, as
//   fast as the ports take them: the switch's raw forwarding rate;
// - aggregation: every port is a host of one tree that the load generator
//   installs over the control channel; each host keeps `window` chunks in
//   flight and sends the next chunk of a slot when its result arrives (the
//   protocol's self-clocking), checking every result element for exactness;
//   over inca-over-UDP, or over RoCEv2: each host is then an RDMA NIC with a
//   UC queue pair connected over the control channel (dpdk/roce_host.hpp),
//   sending RDMA WRITEs with immediate and checking every result's ICRC,
//   opcode, PSN and ring entry.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dpdk/dpdk_ports.hpp"
#include "dpdk/frame.hpp"
#include "inca/status.hpp"
#include "manager/switch_control_client.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace inca::dpdk_switch {

struct LoadgenConfig {
  double seconds = 3;                  ///< length of each phase
  std::uint32_t payload_bytes = 1024;  ///< inca payload per packet (a multiple of 4)
  std::uint32_t window = 512;  ///< slots per host (chunks in flight); at most the switch's --slots
  std::uint32_t job = 77;
  std::uint32_t key_tag = 0x5eed;
  std::uint16_t tree = 4242;
  std::uint16_t udp_port = 4792;            ///< the switch's inca port
  std::vector<std::uint16_t> switch_ports;  ///< switch port of loadgen port i (default i)
};

/// How aggregation packets travel between the hosts and the switch.
enum class Transport : std::uint8_t { udp, roce };

struct PhaseResult {
  std::uint64_t packets = 0;  ///< forwarded frames received / contributions aggregated
  double seconds = 0;
  std::uint64_t mismatches = 0;  ///< aggregation: results that were not exact
  std::uint64_t retransmits = 0;
  std::uint64_t roce_errors = 0;  ///< RoCEv2 results a NIC would refuse (ICRC, PSN, RETH, ...)
  double pps() const { return seconds > 0 ? static_cast<double>(packets) / seconds : 0; }
};

class LoadGenerator {
 public:
  LoadGenerator(LoadgenConfig config, std::vector<DpdkPort> ports, rte_mempool* pool);

  /// Frame size of the forwarding and UDP phases: Ethernet/IPv4/UDP + inca
  /// header + payload.
  std::uint32_t frame_bytes() const;
  /// Frame size of the RoCEv2 phase: Ethernet/IPv4/UDP/BTH/RETH/ImmDt + inca
  /// header + payload + pad + ICRC.
  std::uint32_t roce_frame_bytes() const;
  Result<PhaseResult> run_forwarding();
  /// Installs the tree on the switch behind `control` (and, for RoCEv2,
  /// connects every host's queue pair), runs, removes it again.
  Result<PhaseResult> run_aggregation(manager::SwitchControlClient& control,
                                      Transport transport = Transport::udp);

 private:
  struct Host;
  /// The inca packet in a frame received for host `h` (empty when it is not
  /// one of its results); counts RoCEv2 results its NIC would refuse.
  std::span<const std::byte> result_packet(Host& h, std::span<const std::byte> frame,
                                           PhaseResult& result);
  void disconnect_all(manager::SwitchControlClient& control, const std::vector<Host>& hosts);
  void drain(double seconds);
  std::uint16_t flush(std::uint16_t port, std::vector<rte_mbuf*>& pending);

  LoadgenConfig config_;
  std::vector<DpdkPort> ports_;
  rte_mempool* pool_;
};

}  // namespace inca::dpdk_switch
