// What inca-switch does with a frame, without DPDK: classify it, answer ARP
// for the switch's address, feed inca contributions/results (over UDP, or
// over RoCEv2 from RDMA NICs: roce_endpoint.hpp) to the shared
// engine::AggregationNode and address what it emits (docs/fabrics.md,
// "inca-switch addressing"), and switch everything else at layer 2. The DPDK
// loop only moves mbufs in and out; tests drive this class with byte spans.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dpdk/frame.hpp"
#include "dpdk/l2_table.hpp"
#include "dpdk/neighbor_table.hpp"
#include "dpdk/roce_endpoint.hpp"
#include "dpdk/switch_counters.hpp"
#include "engine/aggregation_node.hpp"
#include "wire/control_codec.hpp"

namespace inca::dpdk_switch {

struct PipelineConfig {
  std::string name = "inca-switch";
  std::uint32_t ipv4 = 0;  ///< the switch's own address (host byte order)
  std::uint16_t udp_port = wire::kDefaultUdpPort;
  bool verify_ip_checksum = true;
  engine::SwitchConfig engine;
  std::uint64_t mac_age_ns = L2Table::kDefaultAgeNs;
  RoceConfig roce;  ///< RoCEv2 to the switch's address (UDP port 4791)
};

/// A switch port as the pipeline knows it.
struct PortIdentity {
  std::string name;
  MacAddress mac{};
};

/// A frame the pipeline built: `head` (Ethernet/IPv4/UDP, Ethernet/IPv4/UDP/
/// BTH/RETH/ImmDt, or a whole ARP reply), then `body` (an encoded inca
/// packet, possibly empty), then `tail` (a RoCEv2 frame's pad and ICRC). All
/// stay valid until the next on_frame call.
struct TxFrame {
  std::uint16_t port = 0;
  std::span<const std::byte> head;
  std::span<const std::byte> body;
  std::span<const std::byte> tail;
  std::size_t size() const { return head.size() + body.size() + tail.size(); }
};

/// The decision for one received frame.
struct FrameVerdict {
  /// Ports the received frame goes out of unchanged (layer-2 path); empty
  /// when it was consumed or dropped.
  std::span<const std::uint16_t> forward;
  /// New frames to send (inca emits, ARP replies).
  std::span<const TxFrame> transmit;
};

class SwitchPipeline {
 public:
  SwitchPipeline(PipelineConfig config, std::vector<PortIdentity> ports);

  /// Handles one frame received on `in_port`; counts it and every drop.
  FrameVerdict on_frame(std::uint16_t in_port, std::span<const std::byte> frame,
                        std::uint64_t now_ns);
  /// Applies a control request (the only way per-job state gets in).
  wire::ControlReply on_control(const wire::ControlRequest& request);

  std::uint16_t port_count() const { return static_cast<std::uint16_t>(ports_.size()); }
  PortCounters& port_counters(std::uint16_t port) { return counters_[port]; }
  const PortCounters& port_counters(std::uint16_t port) const { return counters_[port]; }
  const engine::AggregationNode& engine() const { return engine_; }
  const RoceEndpoint& roce() const { return roce_; }
  const PipelineConfig& config() const { return config_; }
  /// Every counter by name (ports, engine, control, tables).
  std::vector<wire::Counter> counters() const;
  wire::SwitchInfo info() const;
  /// The last kRecentDrops packets the engine refused, oldest first: which
  /// packets its drop counters counted.
  std::vector<EngineDrop> recent_engine_drops() const;
  static constexpr std::size_t kRecentDrops = 8;

 private:
  FrameVerdict forward_l2(std::uint16_t in_port, const ParsedFrame& f, std::uint64_t now_ns);
  FrameVerdict on_inca(std::uint16_t in_port, const ParsedFrame& f, std::uint64_t now_ns);
  FrameVerdict on_roce(std::uint16_t in_port, const ParsedFrame& f);
  /// Hands a decoded contribution/result/error to the engine; `learn` records
  /// where the sender's results go when the engine accepted a contribution.
  template <class Learn>
  FrameVerdict aggregate(std::uint16_t in_port, const ParsedFrame& f, const wire::Header& header,
                         std::span<const std::byte> payload, Learn&& learn);
  void remember_drop(std::uint16_t in_port, const ParsedFrame& f, const wire::Header& header);
  FrameVerdict answer_arp(std::uint16_t in_port, const ParsedFrame& f);
  void address_emits(std::uint16_t in_port);
  /// Queues emit `i` (whose encoded packet is `body`) for its port.
  void address_emit(std::size_t i, std::span<const std::byte> body);
  Status check_ports(const wire::TreeInstall& tree) const;
  FrameVerdict drop(std::uint16_t port, DropReason reason);

  PipelineConfig config_;
  std::vector<PortIdentity> ports_;
  std::vector<PortCounters> counters_;
  engine::AggregationNode engine_;
  L2Table l2_;
  NeighborTable neighbors_;
  RoceEndpoint roce_;
  std::uint64_t control_requests_ = 0;
  std::uint64_t control_errors_ = 0;
  std::uint64_t l2_table_full_ = 0;
  std::uint64_t trees_ = 0;
  std::vector<EngineDrop> recent_drops_;  // a ring once full; next_drop_ is the oldest
  std::size_t next_drop_ = 0;

  // Scratch reused across frames; the verdict's spans point into it.
  std::vector<std::uint16_t> forward_;
  std::vector<TxFrame> transmit_;
  std::vector<engine::Emit> emits_;
  std::vector<std::array<std::byte, kRoceWriteImmHeadBytes>> heads_;
  std::vector<std::array<std::byte, kRoceMaxTailBytes>> tails_;
  std::vector<std::vector<std::byte>> bodies_;
};

}  // namespace inca::dpdk_switch
