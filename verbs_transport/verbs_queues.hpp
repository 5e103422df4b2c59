// What the verbs transport needs from an RDMA NIC, in verbs' own terms:
// memory registration, RDMA WRITE with immediate on a queue pair, receive
// work requests and completions. The rank driver, the registration cache
// and the RC ring baseline are written against this interface;
// ibverbs_queues.hpp implements it on libibverbs (one UC queue pair toward
// the switch, one RC queue pair per peer), and the tests run the same code
// on an emulated NIC. A channel names a queue pair: kSwitchChannel, or a
// peer's rank.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "inca/status.hpp"
#include "inca/time.hpp"

namespace inca::verbs {

/// The queue pair toward the switch (UC); every other channel is a peer rank (RC).
inline constexpr std::uint32_t kSwitchChannel = 0xffffffff;

/// A registered memory region (ibv_mr's keys and extent).
struct MemoryRegion {
  std::byte* addr = nullptr;
  std::size_t bytes = 0;
  std::uint32_t lkey = 0;
  std::uint32_t rkey = 0;
  std::uint64_t handle = 0;  ///< the implementation's reference (an ibv_mr*)
};

/// A range of registered memory to send from.
struct LocalBuffer {
  const std::byte* addr = nullptr;
  std::size_t bytes = 0;
  std::uint32_t lkey = 0;
};

/// A work completion, as much of ibv_wc as the transport reads.
struct Completion {
  enum class Kind : std::uint8_t {
    received,  ///< an RDMA WRITE with immediate landed (it consumed a receive request)
    sent,      ///< an RDMA WRITE with immediate of ours completed
    failed,    ///< a work request failed (the queue pair is in error)
  };
  Kind kind = Kind::received;
  std::uint32_t channel = 0;
  std::uint32_t immediate = 0;  ///< received
  std::uint32_t bytes = 0;      ///< received: bytes written
  std::uint64_t wr_id = 0;      ///< sent/failed: the caller's id of the work request
  std::string error;            ///< failed: ibv_wc_status_str and the vendor syndrome
};

class VerbsQueues {
 public:
  virtual ~VerbsQueues() = default;
  /// Registers `bytes` at `addr` for local reads and, with `remote_write`,
  /// for RDMA WRITEs from the channels' peers.
  virtual Result<MemoryRegion> register_memory(std::byte* addr, std::size_t bytes,
                                               bool remote_write) = 0;
  virtual void deregister(const MemoryRegion& region) = 0;
  /// Posts an RDMA WRITE with immediate of `src` to `remote_va` / `rkey`
  /// of channel's peer, signalled with `wr_id`.
  virtual Status write_imm(std::uint32_t channel, LocalBuffer src, std::uint64_t remote_va,
                           std::uint32_t rkey, std::uint32_t immediate, std::uint64_t wr_id) = 0;
  /// Posts one receive work request on the channel (an RDMA WRITE with
  /// immediate consumes one; without one posted, UC drops the message and
  /// RC answers receiver-not-ready).
  virtual Status post_receive(std::uint32_t channel) = 0;
  /// Up to out.size() completions; never blocks.
  virtual std::size_t poll(std::span<Completion> out) = 0;
  /// Blocks until a completion may be ready, at most `timeout`.
  virtual void wait(Time timeout) = 0;
};

}  // namespace inca::verbs
