// The data-plane loop of inca-switch: one lcore polls every port, hands each
// frame to the SwitchPipeline, turns its verdict into mbufs on egress
// queues, and between bursts serves the control channel, signals, periodic
// counter reports and the EAL interrupt thread (through the InterruptGate,
// so that memif peers connect and leave only while no burst is in flight). After a run of empty
// polls it backs off (pause, then short sleeps) so that host processes on the same cores get CPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "dpdk/control_server.hpp"
#include "dpdk/dpdk_ports.hpp"
#include "dpdk/egress_queue.hpp"
#include "dpdk/interrupt_gate.hpp"
#include "dpdk/pcap_writer.hpp"
#include "dpdk/switch_options.hpp"
#include "dpdk/switch_pipeline.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace inca::dpdk_switch {

/// Set from signal handlers, read by the loop.
struct LoopSignals {
  std::atomic<bool> stop{false};
  std::atomic<bool> report{false};
};

class SwitchLoop {
 public:
  /// `pcap`, `control` and `gate` may be null. With a gate, the EAL
  /// interrupt thread runs only between bursts, in housekeeping.
  SwitchLoop(const SwitchOptions& options, SwitchPipeline& pipeline, std::vector<DpdkPort> ports,
             rte_mempool* pool, PcapWriter* pcap, ControlServer* control, InterruptGate* gate);
  SwitchLoop(const SwitchLoop&) = delete;
  SwitchLoop& operator=(const SwitchLoop&) = delete;

  /// Runs until `signals.stop` is set.
  void run(LoopSignals& signals);
  /// Prints every counter (pipeline, engine, capture, control).
  void report(std::FILE* out) const;

 private:
  bool poll_ports(std::uint64_t now_tsc);
  void handle(std::uint16_t port, rte_mbuf* m, std::uint64_t now_ns);
  void send_built(const TxFrame& frame);
  void enqueue(std::uint16_t port, rte_mbuf* m);
  void housekeeping(LoopSignals& signals, std::uint64_t now_tsc);
  void back_off(bool busy, std::uint64_t now_tsc);

  const SwitchOptions& options_;
  SwitchPipeline& pipeline_;
  std::vector<DpdkPort> ports_;
  rte_mempool* pool_;
  PcapWriter* pcap_;
  ControlServer* control_;
  InterruptGate* gate_;
  std::vector<EgressQueue> egress_;
  std::vector<std::byte> scratch_;  // linear copy of chained frames
  std::uint64_t next_housekeeping_ = 0;
  std::uint64_t next_report_ = 0;
  std::uint64_t next_link_check_ = 0;
  std::uint64_t idle_polls_ = 0;  // consecutive empty polls (drives the back-off)
  std::uint64_t idle_since_ = 0;  // TSC of the first of them
  std::uint64_t polls_ = 0;
  std::uint64_t empty_polls_ = 0;
};

}  // namespace inca::dpdk_switch
