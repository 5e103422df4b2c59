// A verbs rank from its bootstrap (udp/bootstrap.hpp, docs/verbs.md): picks
// the RoCEv2 port and GID, opens the queues, registers the rings, connects
// the UC queue pair to the rank's switch over its control channel
// (connect_qp), swaps RC queue pairs and ring addresses with the other ranks
// over the out-of-band all-gather, brings every queue pair to RTS and waits
// for all ranks to be there. The process fabric's ProcessWorld holds it.
#pragma once

#include <memory>
#include <optional>

#include "ibverbs_queues.hpp"
#include "inca/out_of_band.hpp"
#include "inca/status.hpp"
#include "manager/switch_control_client.hpp"
#include "peer_info.hpp"
#include "protocol/endpoint_types.hpp"
#include "rc_ring.hpp"
#include "udp/bootstrap.hpp"
#include "verbs_rank_driver.hpp"

namespace inca::verbs {

class VerbsRank {
 public:
  /// not_supported when the machine has no RDMA device or no active RoCEv2
  /// port; invalid_argument for a slot that does not fit the path MTU;
  /// io_error/timeout from verbs, the switch or the exchange.
  static Result<std::unique_ptr<VerbsRank>> open(const udp::Bootstrap& b,
                                                 const protocol::EndpointConfig& endpoint,
                                                 OutOfBandAllgather exchange);
  /// Disconnects the switch's queue pair.
  ~VerbsRank();

  VerbsRankDriver& driver() { return *driver_; }
  const RoceAddress& address() const { return queues_->address(); }
  /// The host RC ring baseline on queue pairs of its own (so that its
  /// completions never mix with the driver's); collective: every rank calls
  /// it once, after open. The ring must go before this object.
  Result<std::unique_ptr<RcRing>> open_rc_ring();

 private:
  VerbsRank() = default;
  udp::Bootstrap boot_;
  OutOfBandAllgather exchange_;
  std::unique_ptr<IbvQueues> queues_;
  std::unique_ptr<VerbsRankDriver> driver_;
  std::optional<manager::SwitchControlClient> control_;
  std::uint32_t switch_qpn_ = 0;
  std::unique_ptr<IbvQueues> ring_queues_;
  std::unique_ptr<RegistrationCache> ring_cache_;
};

/// Connects `queues`' RC queue pairs to every other rank and returns what
/// each rank published (peer_info.hpp) after a second all-gather that
/// makes sure all of them reached RTS. `mine` is this rank's own entry.
Result<std::vector<PeerInfo>> connect_ranks(IbvQueues& queues, std::uint32_t rank,
                                            std::uint32_t ranks, const PeerInfo& mine,
                                            const OutOfBandAllgather& exchange);

}  // namespace inca::verbs
