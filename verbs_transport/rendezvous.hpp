// The out-of-band all-gather of a job's ranks that `inca launch` serves
// (INCA_RENDEZVOUS): each rank connects over TCP, sends its blob for a
// round, and gets every rank's blob of that round, in rank order, once all
// have arrived. Verbs ranks exchange their queue pair numbers and ring
// addresses this way (peer_info.hpp); under mpirun the same exchange is an
// MPI_Allgatherv (udp/mpi/mpi_bootstrap.hpp). Plain blocking sockets with
// timeouts: the server handles one short connection at a time.
//
// Frames, big-endian: request = magic u32 "INCA", round u32, rank u32,
// ranks u32, length u32, blob; reply = count u32, then length u32 + blob per
// rank. A blob is at most kMaxBlobBytes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "inca/out_of_band.hpp"
#include "inca/status.hpp"
#include "inca/time.hpp"

namespace inca::verbs {

using Blob = std::vector<std::byte>;
/// An all-gather of one blob per rank: every rank's, in rank order.
using OobAllgather = OutOfBandAllgather;

inline constexpr std::size_t kMaxBlobBytes = 1 << 20;

class RendezvousServer {
 public:
  /// Listens on 127.0.0.1 (or `host`), port 0 = any free port, for `ranks` ranks.
  static Result<std::unique_ptr<RendezvousServer>> start(std::uint32_t ranks,
                                                         std::string_view host = "127.0.0.1");
  /// Stops the thread and closes every socket.
  ~RendezvousServer();
  RendezvousServer(const RendezvousServer&) = delete;
  RendezvousServer& operator=(const RendezvousServer&) = delete;

  /// "host:port" for INCA_RENDEZVOUS.
  const std::string& address() const { return address_; }
  /// Requests refused (a bad frame, a rank out of range or twice in a round).
  std::uint64_t refused() const { return refused_.load(); }

 private:
  RendezvousServer(int fd, std::uint32_t ranks, std::string address);
  void serve();
  void take(int client);

  struct Round {
    std::vector<Blob> blobs;
    std::vector<int> clients;  // by rank; -1 until it arrived
    std::uint32_t arrived = 0;
  };
  int fd_;
  std::uint32_t ranks_;
  std::string address_;
  std::map<std::uint32_t, Round> rounds_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> refused_{0};
  std::thread thread_;
};

/// Takes part in round `round` of the all-gather served at `address`;
/// timeout when the others do not all arrive within `timeout`.
Result<std::vector<Blob>> rendezvous_allgather(std::string_view address, std::uint32_t round,
                                               std::uint32_t rank, std::uint32_t ranks,
                                               std::span<const std::byte> blob, Time timeout);

/// An OobAllgather on the rendezvous at `address`, numbering its rounds
/// from `first_round` (users of one rendezvous in one job keep apart).
OobAllgather rendezvous(std::string address, std::uint32_t rank, std::uint32_t ranks, Time timeout,
                        std::uint32_t first_round = 0);

}  // namespace inca::verbs
