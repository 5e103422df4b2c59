// A rank as a process on an RDMA NIC: the HostDriver of the `verbs` fabric,
// the counterpart of the udp and memif rank drivers (it shares their wait
// loop, udp/datagram_rank_driver.hpp). Every inca packet travels as an RDMA
// WRITE with immediate (docs/verbs.md):
// - a contribution, on the UC queue pair toward inca-switch, into the slot
//   its rkey names (tree, shadow set, slot), the chunk in the immediate;
// - a point-to-point fragment or acknowledgement, on the RC queue pair to
//   its peer, into the next entry of the peer's ring for this rank, the
//   entry in the immediate;
// - results come back the same way into this rank's switch ring.
// Packets are encoded into registered send buffers; receive rings are
// registered for remote writes. The NIC is the VerbsQueues interface
// (ibverbs_queues.hpp on hardware), so the same driver runs on an emulated
// NIC in the tests.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "inca/status.hpp"
#include "protocol/host_endpoint.hpp"
#include "registration_cache.hpp"
#include "udp/datagram_rank_driver.hpp"
#include "verbs_queues.hpp"

namespace inca::verbs {

/// A receive ring: `entries` slots of `entry_bytes`, written by one sender.
struct RingGeometry {
  std::uint32_t entries = 0;
  std::uint32_t entry_bytes = 0;
  std::size_t bytes() const { return std::size_t{entries} * entry_bytes; }
};

/// Where a sender writes: a ring's address and rkey in the receiver's memory.
struct RemoteRing {
  std::uint64_t va = 0;
  std::uint32_t rkey = 0;
  bool operator==(const RemoteRing&) const = default;
};

struct VerbsDriverConfig {
  protocol::EndpointConfig endpoint;
  std::uint32_t ranks = 0;
  /// The switch's results (an inca header and a slot's payload per entry;
  /// at least twice the tree's window, as duplicates may be answered too).
  RingGeometry switch_ring;
  /// Each peer's packets (a point-to-point fragment per entry). The entries
  /// bound what a peer may have unconsumed: each takes a receive request.
  RingGeometry peer_ring;
  std::uint32_t send_buffers = 512;  ///< packets in flight on the NIC at most
  Time idle_timeout = 5 * kPicosPerSecond;
};

class VerbsRankDriver final : public udp::DatagramRankDriver {
 public:
  /// Allocates and registers the rings and the send buffers (through the
  /// registration cache). `queues` must outlive the driver.
  static Result<std::unique_ptr<VerbsRankDriver>> create(VerbsDriverConfig config,
                                                         VerbsQueues& queues);
  ~VerbsRankDriver() override;
  VerbsRankDriver(const VerbsRankDriver&) = delete;
  VerbsRankDriver& operator=(const VerbsRankDriver&) = delete;

  /// The ring the switch writes results into (for connect_qp).
  RemoteRing switch_ring() const;
  /// The ring peer `rank` writes into, in this rank's memory.
  RemoteRing ring_for(std::uint32_t rank) const;
  /// Completes the set-up once every queue pair is connected: where this
  /// rank writes for each peer (`peers[r]`: rank r's ring_for(this rank)),
  /// and every ring's receive requests posted.
  Status start(std::vector<RemoteRing> peers);

  void transmit(protocol::Outbox& out) override;

  std::uint64_t writes() const { return writes_; }
  std::uint64_t failed_writes() const { return failed_writes_; }
  std::uint64_t no_send_buffer() const { return no_send_buffer_; }
  const RegistrationCache& registrations() const { return cache_; }

 private:
  VerbsRankDriver(VerbsDriverConfig config, VerbsQueues& queues);
  bool drain() override;
  void wait_for_datagram(Time wait) override;
  /// Handles one batch of completions; true when any packet arrived.
  bool handle(std::span<const Completion> completions, Time t);
  std::byte* ring_base(std::uint32_t channel);
  const RingGeometry& geometry(std::uint32_t channel) const;
  std::optional<std::uint32_t> free_send_buffer();

  VerbsDriverConfig config_;
  VerbsQueues& queues_;
  RegistrationCache cache_;
  std::vector<std::byte> rings_;  // the switch ring, then a ring per rank
  std::vector<std::byte> send_;   // send_buffers x the larger entry size
  MemoryRegion rings_mr_;
  MemoryRegion send_mr_;
  std::size_t send_entry_bytes_ = 0;
  std::vector<std::uint32_t> free_;        // send buffers not on the NIC
  std::vector<RemoteRing> peers_;          // by rank
  std::vector<std::uint32_t> next_entry_;  // by rank: the next entry this rank writes
  std::vector<Completion> batch_;
  bool started_ = false;
  std::uint64_t writes_ = 0;
  std::uint64_t failed_writes_ = 0;
  std::uint64_t no_send_buffer_ = 0;
};

}  // namespace inca::verbs
