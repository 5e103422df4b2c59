// One rank of a job whose ranks are separate processes (started by `inca
// launch`, docs/fabrics.md) that reach an inca-switch: through a kernel UDP
// socket on the `udp` fabric, through a DPDK memif port on the `memif`
// fabric, through an RDMA NIC on the `verbs` fabric (docs/verbs.md). The
// rank code is the same as on a World's fabrics.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "inca/out_of_band.hpp"
#include "inca/status.hpp"

namespace inca {

class Communicator;

class ProcessWorld {
 public:
  /// True when a launcher started this process as a rank (INCA_FABRIC=udp,
  /// memif or verbs).
  static bool launched();
  /// Joins the job the launcher described in the environment (INCA_RANK,
  /// INCA_SIZE, INCA_SWITCH, INCA_PEERS, ...): opens this rank's socket,
  /// memif port or RDMA queues. invalid_argument naming the variable when
  /// one is missing or malformed, io_error when the socket cannot be bound
  /// or the memif port not started, not_supported for memif in a build
  /// without DPDK and for verbs on a machine without an RDMA NIC (or a build
  /// without libibverbs). A verbs job swaps its queue pairs over `exchange`
  /// (an MPI program passes one) or, when it is empty, over the launcher's
  /// rendezvous (INCA_RENDEZVOUS).
  static Result<std::unique_ptr<ProcessWorld>> from_env(OutOfBandAllgather exchange = {});
  ~ProcessWorld();

  /// Runs `rank_main` on this process's rank. Afterwards the ranks meet in a
  /// barrier and keep answering their peers briefly, so no rank exits while
  /// another still waits for its acknowledgement. Errors: what the barrier
  /// returned (a peer failed), or an exception's message.
  Status run(const std::function<void(Communicator&)>& rank_main);

  int rank() const;
  int size() const;
  /// The rank, the switch and the tree in one line.
  std::string describe() const;

  class Impl;

 private:
  explicit ProcessWorld(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inca
