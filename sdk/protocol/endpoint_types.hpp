// The vocabulary of the host side of the protocol: the outbox a state machine
// fills, the configuration and counters of one endpoint, and what a
// point-to-point message declares about itself.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

#include "inca/dtype.hpp"
#include "inca/time.hpp"
#include "protocol/op_table.hpp"
#include "wire/packet.hpp"

namespace inca::protocol {

/// Packets an endpoint wants transmitted, in order.
using Outbox = std::vector<wire::Packet>;

/// The fabric address of every world rank. Copies share one table, so the
/// thousands of simulated hosts of a world hold one between them (a vector
/// each was 18 KiB per host at 4,608 ranks, read on every send); push_back on
/// a shared table copies it first. Built before the endpoints are, then only
/// read (threads may share it).
class AddressTable {
 public:
  AddressTable() = default;
  AddressTable(std::initializer_list<wire::Address> addresses)
      : AddressTable(std::vector<wire::Address>(addresses)) {}
  // Implicit, as the vector it stands for.
  AddressTable(std::vector<wire::Address> addresses)  // NOLINT(google-explicit-constructor)
      : table_(std::make_shared<std::vector<wire::Address>>(std::move(addresses))) {}

  std::size_t size() const { return table_ ? table_->size() : 0; }
  wire::Address operator[](std::size_t rank) const { return (*table_)[rank]; }
  void push_back(wire::Address address) {
    if (!table_ || table_.use_count() > 1)
      table_ = std::make_shared<std::vector<wire::Address>>(table_ ? *table_
                                                                   : std::vector<wire::Address>());
    table_->push_back(address);
  }

 private:
  std::shared_ptr<std::vector<wire::Address>> table_;
};

struct EndpointConfig {
  std::uint32_t rank = 0;     ///< world rank (source field of p2p packets)
  wire::Address address = 0;  ///< this host's fabric address
  AddressTable rank_address;  ///< fabric address of every world rank
  std::uint32_t job = 0;
  std::uint32_t key_tag = 0;
  std::uint32_t p2p_payload_bytes = 4000;  ///< payload per point-to-point wire packet
  /// Segment mode (docs/model.md): a point-to-point fragment or in-network
  /// chunk carries up to this many wire packets' payload as one packet whose
  /// Packet::packets says how many it stands for; 1: every packet is one.
  std::uint32_t segment_packets = 1;
  /// The same for point-to-point fragments.
  std::uint32_t p2p_segment_packets = 1;
  Time retransmit_timeout = 10 * kPicosPerMilli;  ///< first timeout; doubles per expiry
  std::uint32_t max_retransmits = 8;              ///< then the operation fails with `timeout`
  bool timing_only = false;                       ///< move sizes, not data (payload-free mode)
  /// Point-to-point reliability: receivers acknowledge fragments, senders
  /// retransmit what is unacknowledged and a send completes once all of it
  /// was acknowledged. Off: sends complete when handed to the fabric.
  bool reliable_p2p = false;
  /// With reliable_p2p, sends up to this many bytes complete when handed to
  /// the fabric (the channel retransmits its copy until acknowledged).
  std::size_t eager_send_bytes = 0;
  /// Estimate timeouts from round trips (protocol/rto_estimator.hpp), between
  /// min_retransmit_timeout and retransmit_timeout. Off: always retransmit_timeout.
  bool adaptive_timeout = false;
  Time min_retransmit_timeout = 20 * kPicosPerMicro;
  /// With adaptive_timeout, the timeout before enough round trips were
  /// measured (0: retransmit_timeout); a fabric that knows its latencies
  /// sets a few round trips here.
  Time initial_retransmit_timeout = 0;
  std::uint32_t max_backoff_shift = 16;  ///< the timeout doubles at most this many times
  /// A chunk or message unanswered this long after its first send fails its
  /// operation with `timeout` (as do max_retransmits retransmissions).
  Time give_up_after = kNever;
  /// The NIC's line rate. When known (> 0), a packet's timeout also allows for
  /// draining what this endpoint has outstanding ahead of it, so that a burst
  /// (a window of chunks, a large message) is not retransmitted while it is
  /// still leaving, and round-trip samples measure the network alone.
  double nic_gbps = 0;
  /// What each outstanding message adds to that allowance: the host's send
  /// and receive intervals (max(o, g) each, HostTiming), the queues a burst
  /// of messages waits in on the host itself.
  Time message_drain = 0;
};

/// Payload of one point-to-point fragment: a wire packet's, or a segment's.
inline std::size_t fragment_bytes(const EndpointConfig& c) {
  return std::size_t{c.p2p_payload_bytes} * std::max<std::uint32_t>(1, c.p2p_segment_packets);
}

/// Makes `p`, of `payload` bytes, stand for the wire packets of `per_packet`
/// bytes each that carry it (segment mode; one packet when it fits).
inline void split_into_packets(wire::Packet& p, std::size_t payload, std::size_t per_packet) {
  if (per_packet == 0 || payload <= per_packet) return;
  p.packets = static_cast<std::uint16_t>((payload + per_packet - 1) / per_packet);
  p.packet_payload = static_cast<std::uint16_t>(per_packet);
}

/// How long `bytes` of wire traffic take to leave a NIC of `gbps` (0 when unknown).
inline Time drain_time(std::uint64_t bytes, double gbps) {
  return gbps > 0 ? static_cast<Time>(static_cast<double>(bytes) * 8000.0 / gbps) : 0;
}

/// How long what this host has outstanding (`bytes` on the wire, `messages`
/// through its own send and receive queues) takes to leave it.
inline Time local_drain(const EndpointConfig& c, std::uint64_t bytes, std::uint64_t messages) {
  return drain_time(bytes, c.nic_gbps) + static_cast<Time>(messages) * c.message_drain;
}

/// What a point-to-point message says about its bytes: the element type and
/// op of the collective it belongs to (u8/sum for plain bytes). A receive
/// that expects another kind fails with `mismatch`.
struct MessageKind {
  Dtype dtype = Dtype::u8;
  ReduceOp op = ReduceOp::sum;
};

/// Counters of one endpoint.
struct EndpointCounters {
  std::uint64_t packets_sent = 0;
  std::uint64_t bytes_sent = 0;  ///< wire bytes, framing included
  std::uint64_t packets_received = 0;
  std::uint64_t contributions_sent = 0;
  std::uint64_t identity_contributions_sent = 0;  ///< of those, header-only (wire::kFlagIdentity)
  std::uint64_t results_received = 0;
  std::uint64_t duplicate_results = 0;
  std::uint64_t retransmissions = 0;    ///< in-network chunks sent again
  std::uint64_t window_full_waits = 0;  ///< chunks that had to wait for a free slot
  std::uint64_t p2p_fragments_sent = 0;
  std::uint64_t p2p_fragments_received = 0;
  std::uint64_t p2p_duplicates = 0;
  std::uint64_t unexpected_fragments = 0;  ///< arrived before their receive was posted
  std::uint64_t dropped = 0;               ///< packets for no known operation or malformed
  std::uint64_t p2p_retransmissions = 0;   ///< p2p fragments sent again
  std::uint64_t acks_sent = 0;
  std::uint64_t acks_received = 0;
  std::uint64_t errors_received = 0;  ///< error packets that failed an operation
  std::uint64_t timeouts = 0;         ///< operations failed after retransmissions ran out
};

}  // namespace inca::protocol
