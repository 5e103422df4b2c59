// inca-loadgen: N emulated hosts on DPDK ports (memif clients of a running
// inca-switch), used to measure the switch. Two phases on the same ports:
// - forwarding: plain layer-2 frames from port i to port i+1, open loop, as
//   fast as the ports take them: the switch's raw forwarding rate;
// - aggregation: every port is a host of one tree that the load generator
//   installs over the control channel; each host keeps `window` chunks in
//   flight and sends the next chunk of a slot when its result arrives (the
//   protocol's self-clocking), checking every result element for exactness.
#pragma once

#include <cstdint>
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

struct PhaseResult {
  std::uint64_t packets = 0;  ///< forwarded frames received / contributions aggregated
  double seconds = 0;
  std::uint64_t mismatches = 0;  ///< aggregation: results that were not exact
  std::uint64_t retransmits = 0;
  double pps() const { return seconds > 0 ? static_cast<double>(packets) / seconds : 0; }
};

class LoadGenerator {
 public:
  LoadGenerator(LoadgenConfig config, std::vector<DpdkPort> ports, rte_mempool* pool);

  /// Frame size of both phases: Ethernet/IPv4/UDP + inca header + payload.
  std::uint32_t frame_bytes() const;
  Result<PhaseResult> run_forwarding();
  /// Installs the tree on the switch behind `control`, runs, removes it.
  Result<PhaseResult> run_aggregation(manager::SwitchControlClient& control);

 private:
  struct Host;
  void drain(double seconds);
  std::uint16_t flush(std::uint16_t port, std::vector<rte_mbuf*>& pending);

  LoadgenConfig config_;
  std::vector<DpdkPort> ports_;
  rte_mempool* pool_;
};

}  // namespace inca::dpdk_switch
