// The counters of inca-switch: per port (traffic, layer-2 decisions, drops
// by reason) and the engine's EngineCounters, flattened into named values
// for the control channel and printed on SIGUSR1 and at exit.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/aggregation_node.hpp"
#include "wire/control_codec.hpp"
#include "wire/header.hpp"

namespace inca::dpdk_switch {

/// Why the switch dropped a frame (inca decode failures are counted apart,
/// by wire::DecodeError; the engine counts its own rejections).
enum class DropReason : std::uint8_t {
  runt_frame,       ///< shorter than an Ethernet header
  oversize_frame,   ///< longer than the switch's receive scratch buffer
  bad_arp,          ///< ARP with a malformed body
  bad_ipv4,         ///< IPv4 header inconsistent with the frame
  bad_udp,          ///< UDP header missing or longer than its packet
  ip_fragment,      ///< a fragmented datagram to the inca port
  bad_udp_length,   ///< inca datagram whose UDP length is not the IPv4 payload
  bad_ip_checksum,  ///< inca datagram whose IPv4 header checksum is wrong
  own_source,       ///< source MAC is one of this switch's ports (a loop or an echo)
  same_port,        ///< layer-2 destination lives on the ingress port
  unhandled_local,  ///< addressed to a switch port but neither ARP nor inca
  no_neighbor,      ///< an inca packet for a port whose far end is unknown
  bad_egress_port,  ///< a tree names a port this switch does not have
  encode_failed,    ///< the engine emitted a packet that does not encode (a bug)
  no_mbuf,          ///< packet buffer pool exhausted
  tx_full,          ///< egress queue full (the port does not keep up)
  rate_limit,       ///< egress queue full on a rate-limited port
  before_start,     ///< in the port's receive ring before the switch started (see start_ports)
  // RoCEv2 frames to the switch's address (docs/verbs.md, "Drops"), in the
  // order RoceEndpoint checks them.
  roce_truncated,           ///< shorter than BTH + ICRC or than its extension headers
  roce_bad_icrc,            ///< invariant CRC mismatch
  roce_bad_version,         ///< BTH transport version not 0
  roce_unknown_opcode,      ///< an opcode RoCEv2 does not define (or RD, unsupported)
  roce_bad_pad,             ///< pad count larger than the payload
  roce_unknown_qpn,         ///< destination QP is none of the switch's
  roce_wrong_peer,          ///< source MAC/IPv4 or port differ from the QP's host
  roce_bad_pkey,            ///< not the default partition
  roce_psn_gap,             ///< PSN ahead of the expected one (the QP resynchronises)
  roce_psn_stale,           ///< PSN behind the expected one (a duplicate or late packet)
  roce_unsupported_opcode,  ///< anything but a UC RDMA WRITE_ONLY with immediate
  roce_bad_reth,            ///< RETH VA not 0 or DMA length not the payload's
  roce_over_mtu,            ///< payload larger than the QP's path MTU
  roce_mapping_mismatch,    ///< QPN/rkey/immediate disagree with the inca header
  roce_no_result_room,      ///< a result larger than the host's ring entry or MTU
};
inline constexpr std::size_t kDropReasons =
    static_cast<std::size_t>(DropReason::roce_no_result_room) + 1;
std::string_view to_string(DropReason r);

inline constexpr std::size_t kDecodeErrors =
    static_cast<std::size_t>(wire::DecodeError::bad_checksum) + 1;

struct PortCounters {
  std::uint64_t link_up = 0;  ///< 1 while the port's link is up (a gauge, refreshed by the loop)
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t inca_rx = 0;           ///< valid contributions/results/errors handed to the engine
  std::uint64_t inca_tx = 0;           ///< inca packets the engine emitted through this port
  std::uint64_t inca_forwarded = 0;    ///< valid inca p2p/ack/control packets switched at layer 2
  std::uint64_t l2_unicast = 0;        ///< frames forwarded to one learned port
  std::uint64_t l2_flooded = 0;        ///< broadcast, multicast or unknown-destination frames
  std::uint64_t arp_replies = 0;       ///< ARP requests for the switch's address answered
  std::uint64_t rate_limit_waits = 0;  ///< frames queued behind the token bucket
  std::uint64_t roce_rx = 0;           ///< RoCEv2 contributions that passed every check
  std::uint64_t roce_tx = 0;           ///< RoCEv2 results sent
  std::uint64_t roce_cnp = 0;          ///< congestion notifications addressed to the switch
  std::array<std::uint64_t, kDropReasons> drops{};
  std::array<std::uint64_t, kDecodeErrors> decode_drops{};  ///< by wire::DecodeError

  void drop(DropReason r) { ++drops[static_cast<std::size_t>(r)]; }
  std::uint64_t dropped(DropReason r) const { return drops[static_cast<std::size_t>(r)]; }
};

/// Appends "port<N>.<name>" values (every field, zeros included).
void append_counters(std::uint16_t port, const PortCounters& c, std::vector<wire::Counter>& out);
/// Appends "engine.<name>" values.
void append_counters(const engine::EngineCounters& c, std::vector<wire::Counter>& out);

/// An inca packet the engine refused, kept so a report can say which
/// packets the drop counters count: where it came in, who sent it and what
/// its header claimed.
struct EngineDrop {
  std::string_view reason;  ///< the engine counter it went to ("drop_unknown_tree", "stale", ...)
  std::uint16_t port = 0;
  std::uint32_t src_ip = 0;  ///< host byte order; 0 over RoCEv2
  std::uint16_t src_port = 0;
  wire::Header header;
};

/// The name an engine counter is reported under ("drop_unknown_tree"; ""
/// for null).
std::string_view engine_counter_name(engine::EngineBucket bucket);
/// "port0 10.77.0.1:40002 contribution job 41 key 0x600d tree 3 child 0 seq 7: drop_unknown_tree"
std::string format_engine_drop(const EngineDrop& d);

/// Human-readable report: one line per group, zero-valued drops left out.
std::string format_counters(const std::vector<wire::Counter>& counters);

}  // namespace inca::dpdk_switch
