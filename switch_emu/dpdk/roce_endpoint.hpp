// The RoCEv2 side of inca-switch (docs/verbs.md): the unreliable-connected
// queue pairs the switch keeps for hosts whose NICs speak RDMA, the checks
// every RoCEv2 frame to the switch's address passes (ICRC, queue pair,
// sender, opcode, PSN order, the (QPN, rkey, immediate) -> (job, tree,
// slot, chunk) mapping), and the frames that carry results back as RDMA
// WRITEs with immediate into each host's result ring, with in-order PSNs
// per queue pair and a correct ICRC. No DPDK here; SwitchPipeline drives it.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

#include "dpdk/frame.hpp"
#include "dpdk/roce_frame.hpp"
#include "dpdk/switch_counters.hpp"
#include "inca/status.hpp"
#include "wire/control_codec.hpp"
#include "wire/header.hpp"

namespace inca::dpdk_switch {

struct RoceConfig {
  bool enabled = true;
  std::uint32_t max_qps = 4096;        ///< queue pairs the switch keeps at most
  std::uint32_t first_qpn = 0x100;     ///< QPNs below are reserved (QP0/QP1 are the SMI/GSI)
  std::uint8_t tos = (26 << 2) | 0x2;  ///< DSCP 26 (the usual RoCE class) and ECT(0)
  std::uint64_t psn_seed = 1;          ///< seeds the first PSN of each queue pair
};

/// One queue pair the switch keeps for a connected host.
struct RoceQp {
  wire::QpConnect peer;  ///< as the host connected it
  std::uint32_t qpn = 0;
  std::uint16_t port = wire::kNoPort;  ///< the host's switch port (configured or learned)
  std::uint32_t expected_psn = 0;      ///< the next PSN the host must send
  std::uint32_t next_psn = 0;          ///< the next PSN the switch sends
  std::uint32_t ring_index = 0;        ///< results written into the host's ring so far
  std::uint64_t rx_packets = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t psn_gaps = 0;
  std::uint64_t psn_stale = 0;
};

/// What became of one RoCEv2 frame addressed to the switch.
struct RoceIntake {
  std::optional<DropReason> drop;                      ///< refused by the transport checks
  wire::DecodeError decode = wire::DecodeError::none;  ///< the inca packet inside is malformed
  bool cnp = false;  ///< a congestion notification (counted, nothing else to do)
  std::uint32_t qpn = 0;
  wire::Header header;
  std::span<const std::byte> payload;  ///< the chunk's elements, inside the frame
};

/// A result frame's head and tail around the encoded inca packet (the body).
struct RoceTx {
  std::size_t head = 0;
  std::size_t tail = 0;
  std::optional<DropReason> drop;
};

class RoceEndpoint {
 public:
  RoceEndpoint(RoceConfig config, std::uint16_t ports);

  /// Gives a host's queue pair one of the switch's; invalid_argument for a
  /// bad description (24-bit QPN and PSN, a valid MTU, a ring whose entries
  /// hold an inca header), no_resource when max_qps are in use.
  Result<wire::QpInfo> connect(const wire::QpConnect& qp);
  /// not_supported for a QPN the switch does not have.
  Status disconnect(std::uint32_t qpn);

  /// Runs the transport checks on a RoCEv2 frame to the switch (`frame` is
  /// whole and unfragmented) and decodes the inca contribution it carries.
  RoceIntake take(std::uint16_t in_port, const ParsedFrame& frame);
  /// Results for child `child` of (job, tree) go to queue pair `qpn` (a
  /// contribution of that child from it was accepted). Keyed by child, not
  /// port, so that several RDMA hosts may share a switch port.
  void learn(std::uint32_t job, std::uint16_t tree, std::uint16_t child, std::uint32_t qpn);
  /// Results for that child go to a UDP neighbour from now on.
  void forget(std::uint32_t job, std::uint16_t tree, std::uint16_t child);
  void forget_tree(std::uint32_t job, std::uint16_t tree);
  /// The queue pair results for child `child` of (job, tree) go to, if any
  /// (none for engine::kNoChild).
  RoceQp* route(std::uint32_t job, std::uint16_t tree, std::uint16_t child);

  /// Writes the frame that carries `body` (an encoded inca packet) to `qp`
  /// as an RDMA WRITE with immediate into its next ring entry: head into
  /// `head`, pad and ICRC into `tail`. Consumes a PSN and a ring index.
  RoceTx write_result(RoceQp& qp, const UdpEndpoint& self, std::span<const std::byte> body,
                      std::span<std::byte> head, std::span<std::byte> tail);

  const RoceConfig& config() const { return config_; }
  std::size_t connected() const { return connected_; }
  const RoceQp* find(std::uint32_t qpn) const;
  /// roce.* totals and per-queue-pair counters (the first kCountedQps).
  void append_counters(std::vector<wire::Counter>& out) const;
  static constexpr std::size_t kCountedQps = 256;

 private:
  static std::uint64_t key(std::uint32_t job, std::uint16_t tree, std::uint16_t child) {
    return (std::uint64_t{job} << 32) | (std::uint64_t{tree} << 16) | child;
  }
  RoceQp* lookup(std::uint32_t qpn);
  std::optional<DropReason> check_transport(std::uint16_t in_port, const ParsedFrame& f,
                                            const RocePacket& p, RoceQp& qp);

  RoceConfig config_;
  std::uint16_t ports_;
  std::vector<std::optional<RoceQp>> qps_;  // index = qpn - first_qpn
  std::size_t connected_ = 0;
  std::size_t next_free_ = 0;
  std::mt19937 psn_random_;
  std::unordered_map<std::uint64_t, std::uint32_t> routes_;  // (job, tree, child) -> qpn
  RocePacket scratch_;
};

}  // namespace inca::dpdk_switch
