// One RDMA host as its NIC behaves on the wire toward inca-switch
// (docs/verbs.md): a UC queue pair that sends each inca contribution as an
// RDMA WRITE_ONLY with immediate (rkey = tree/shadow/slot, immediate = chunk,
// in-order PSNs) and takes the switch's results, RDMA WRITEs with immediate
// into its result ring, checking them as a UC responder would (ICRC, opcode,
// destination QP, PSN order) and that they land in the ring entry the
// immediate names. The load generator plays hosts with it; tests, the fuzzer
// and the benchmark build their frames with it. No DPDK here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dpdk/roce_frame.hpp"
#include "wire/control_codec.hpp"
#include "wire/header.hpp"

namespace inca::dpdk_switch {

struct RoceHostConfig {
  std::uint32_t job = 0;
  UdpEndpoint self;                    ///< the NIC's MAC, IPv4 and UDP source port
  UdpEndpoint switch_port;             ///< the switch port's MAC and the switch's IPv4
  std::uint16_t port = wire::kNoPort;  ///< the switch port the host is cabled to, when known
  std::uint32_t qpn = 0;               ///< the host's UC queue pair
  std::uint32_t psn = 0;               ///< its first PSN
  std::uint16_t mtu = 4096;
  std::uint64_t ring_va = 0x10000000;  ///< its result ring (here only an address range)
  std::uint32_t ring_rkey = 0x1000;
  std::uint32_t ring_entries = 1024;
  std::uint32_t ring_entry_bytes = 4096;
  std::uint8_t tos = (26 << 2) | 0x2;  ///< DSCP 26, ECT(0)
};

/// Why a frame sent to the host is not a result it takes.
enum class RoceResultError : std::uint8_t {
  none = 0,
  not_roce,      ///< not an unfragmented IPv4/UDP frame to port 4791 for the host
  bad_frame,     ///< parse_roce refused it (ICRC, version, opcode, pad)
  wrong_qp,      ///< addressed to another queue pair
  wrong_opcode,  ///< not an RDMA WRITE_ONLY with immediate
  psn,           ///< not the next PSN of the switch's queue pair
  bad_reth,      ///< outside the ring entry its immediate names, or the wrong rkey
};
std::string_view to_string(RoceResultError e);

class RoceHost {
 public:
  explicit RoceHost(RoceHostConfig config) : config_(config), next_psn_(config.psn) {}

  /// The connect_qp request for this host's queue pair.
  wire::QpConnect connect_request() const;
  /// Records the switch's queue pair and first PSN (its connect_qp reply).
  void connected(const wire::QpInfo& sw);

  /// The headers of the RDMA WRITE with immediate that carries contribution
  /// `h` encoded in `bytes` bytes; takes the next PSN.
  RoceHeaders contribution_headers(const wire::Header& h, std::size_t bytes);
  /// Writes the whole frame for the encoded contribution `inca` into `out`
  /// (0 when it does not fit or `inca` does not decode); takes the next PSN.
  std::size_t write_contribution(std::span<const std::byte> inca, std::span<std::byte> out);
  /// The same for a contribution whose header `h` the caller knows; `inca`
  /// may already lie in `out` after the head (kRoceWriteImmHeadBytes).
  std::size_t write_contribution(const wire::Header& h, std::span<const std::byte> inca,
                                 std::span<std::byte> out);
  std::vector<std::byte> contribution_frame(std::span<const std::byte> inca);

  /// Checks a frame the switch sent to this host; on success `inca` views
  /// the inca packet inside it and the switch's next PSN is expected.
  RoceResultError take_result(std::span<const std::byte> frame, std::span<const std::byte>& inca);

  const RoceHostConfig& config() const { return config_; }
  std::uint32_t switch_qpn() const { return switch_qpn_; }
  std::uint32_t next_psn() const { return next_psn_; }
  /// Sets the PSN the next contribution takes (tests skip and repeat PSNs).
  void set_next_psn(std::uint32_t psn) { next_psn_ = psn & kPsnMask; }
  /// Results taken so far.
  std::uint64_t results() const { return results_; }

 private:
  RoceHostConfig config_;
  std::uint32_t next_psn_;
  std::uint32_t switch_qpn_ = 0;
  std::uint32_t expected_psn_ = 0;
  std::uint64_t results_ = 0;
  RocePacket scratch_;
};

}  // namespace inca::dpdk_switch
