// The sans-I/O host side of the protocol, one per rank. It turns operations
// (an in-network all-reduce over a tree, a point-to-point send or receive)
// into packets, and packets plus the current time into completed operations.
// It has no sockets, threads or clocks: a fabric's driver feeds it packets and
// timer ticks and transmits what it returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "inca/dtype.hpp"
#include "inca/status.hpp"
#include "inca/time.hpp"
#include "protocol/deadline_queue.hpp"
#include "protocol/endpoint_types.hpp"
#include "protocol/rto_estimator.hpp"
#include "wire/packet.hpp"

namespace inca::protocol {

class P2pChannel;

/// An in-network all-reduce of one buffer over an installed tree.
struct InnetAllreduce {
  std::uint16_t tree = 0;
  std::uint16_t child_index = 0;  ///< this host's child index at its leaf switch
  std::uint32_t window = 1;       ///< slots of the tree = chunks in flight
  std::uint32_t slot_payload_bytes = 0;
  const void* send = nullptr;
  void* recv = nullptr;
  std::size_t count = 0;
  Dtype dtype = Dtype::f32;
  ReduceOp op = ReduceOp::sum;
  std::uint8_t flags = 0;  ///< wire::kFlagReproducible, ...
  /// Identifies the collective attempt (the same on every rank); switches
  /// refuse to mix contributions that disagree on it (docs/protocol.md).
  std::uint8_t attempt_tag = 0;
  /// The elements [held_first, held_end) of `send` are this rank's data;
  /// the rest are the op's identity. A chunk wholly outside goes up as a
  /// header-only identity contribution (wire::kFlagIdentity). Narrower than
  /// the buffer only for ops where zero_is_identity().
  std::size_t held_first = 0;
  std::size_t held_end = SIZE_MAX;
  /// The elements [kept_first, kept_end) of `recv` this rank keeps: a chunk
  /// wholly outside asks for a header-only answer (wire::kFlagHeaderOnly)
  /// and writes nothing.
  std::size_t kept_first = 0;
  std::size_t kept_end = SIZE_MAX;
  /// The tree's slowest stage per chunk (manager::TreePlan::chunk_service):
  /// where it is slower than this host's NIC, chunks queue in the tree and
  /// each chunk ahead adds that much before a retransmission.
  Time chunk_service = 0;
};

class HostEndpoint {
 public:
  explicit HostEndpoint(EndpointConfig config);
  ~HostEndpoint();
  HostEndpoint(const HostEndpoint&) = delete;
  HostEndpoint& operator=(const HostEndpoint&) = delete;

  /// Starts an in-network all-reduce; its first window of chunks goes to `out`.
  Result<OpId> start_innet(const InnetAllreduce& spec, Time now, Outbox& out);
  /// Sends `bytes` to world rank `dst` with `tag` (data is copied now). With
  /// reliable_p2p the send completes when every fragment was acknowledged.
  Result<OpId> post_send(std::uint32_t dst, std::uint16_t tag, MessageKind kind, const void* data,
                         std::size_t bytes, Time now, Outbox& out);
  /// The same for plain bytes, timed at the last time the endpoint was given.
  Result<OpId> post_send(std::uint32_t dst, std::uint16_t tag, const void* data, std::size_t bytes,
                         Outbox& out);
  /// Receives exactly `bytes` from world rank `src` with `tag` into `data`;
  /// fails with `mismatch` when the message is of another size or kind.
  Result<OpId> post_recv(std::uint32_t src, std::uint16_t tag, MessageKind kind, void* data,
                         std::size_t bytes);
  Result<OpId> post_recv(std::uint32_t src, std::uint16_t tag, void* data, std::size_t bytes);

  /// Feeds one arriving packet.
  void on_packet(const wire::Packet& packet, Time now, Outbox& out);
  /// Fires due timers (retransmissions).
  void on_timer(Time now, Outbox& out);
  /// The earliest time on_timer has work, or kNever.
  Time next_deadline() const;

  /// True once the operation completed or failed.
  bool done(OpId id) const;
  /// The outcome of a done operation (ok while pending).
  Status status(OpId id) const;
  /// Forgets a done operation.
  void release(OpId id);
  /// True while `id` names an operation of this endpoint that has not finished.
  bool pending(OpId id) const;
  /// The collective that used point-to-point `tag` is over (P2pChannel::retire_tag).
  void retire_tag(std::uint16_t tag);
  /// Fails every pending operation with `why` (a fabric that can no longer progress).
  void abort_all(const Status& why);

  const EndpointCounters& counters() const { return counters_; }
  const EndpointConfig& config() const { return config_; }

 private:
  struct InnetOp;
  void transmit(wire::Packet&& p, Outbox& out);
  void send_chunk(InnetOp& op, std::uint32_t chunk, Time now, Outbox& out);
  void on_result(const wire::Packet& p, Time now, Outbox& out);
  void on_error(const wire::Packet& p);
  void fail_innet(InnetOp& op, Status why);
  /// Which way retime() may move a deadline.
  enum class Retime : bool { sooner, later };
  void retime(InnetOp& op, Retime way);
  /// Books `p` on this host's queue of in-network sends (its NIC, or the
  /// switch's ALU when slower); returns how long its first packet waits.
  Time book_on_nic(const wire::Packet& p, Time service, Time now);
  void prune_timers();
  InnetOp* find_innet(OpId id);
  void forget_innet(OpId id);

  EndpointConfig config_;
  EndpointCounters counters_;
  OpTable ops_;
  std::unique_ptr<P2pChannel> p2p_;
  RtoEstimator innet_rto_;
  Time last_now_ = 0;                          // the latest time the fabric gave us
  std::uint64_t innet_outstanding_bytes_ = 0;  // wire bytes of chunks sent, not yet answered
  std::uint64_t innet_outstanding_chunks_ = 0;
  Time innet_tx_free_ = 0;  // when this host's in-network sends have left its NIC
  std::unordered_map<OpId, std::unique_ptr<InnetOp>> innet_;  // by op id
  std::map<std::uint16_t, std::uint32_t> tree_next_seq_;      // per tree, across ops
  std::map<std::uint16_t, OpId> tree_active_;                 // tree -> running op
  InnetOp* last_innet_ = nullptr;                             // cache for find_innet
  // Chunk deadlines; entries of answered chunks are skipped lazily.
  DeadlineQueue timers_;
};

}  // namespace inca::protocol
