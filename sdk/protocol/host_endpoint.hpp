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
#include "wire/packet.hpp"

namespace inca::protocol {

/// Packets an endpoint wants transmitted, in order.
using Outbox = std::vector<wire::Packet>;

/// Handle of an operation posted on an endpoint.
using OpId = std::uint64_t;

struct EndpointConfig {
  std::uint32_t rank = 0;                   ///< world rank (source field of p2p packets)
  wire::Address address = 0;                ///< this host's fabric address
  std::vector<wire::Address> rank_address;  ///< fabric address of every world rank
  std::uint32_t job = 0;
  std::uint32_t key_tag = 0;
  std::uint32_t p2p_payload_bytes = 4000;         ///< payload per point-to-point fragment
  Time retransmit_timeout = 10 * kPicosPerMilli;  ///< first timeout; doubles per expiry
  std::uint32_t max_retransmits = 8;              ///< then the operation fails with `timeout`
  bool timing_only = false;                       ///< move sizes, not data (payload-free mode)
};

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
};

/// Counters of one endpoint.
struct EndpointCounters {
  std::uint64_t packets_sent = 0;
  std::uint64_t bytes_sent = 0;  ///< wire bytes, framing included
  std::uint64_t packets_received = 0;
  std::uint64_t contributions_sent = 0;
  std::uint64_t results_received = 0;
  std::uint64_t duplicate_results = 0;
  std::uint64_t retransmissions = 0;
  std::uint64_t window_full_waits = 0;  ///< chunks that had to wait for a free slot
  std::uint64_t p2p_fragments_sent = 0;
  std::uint64_t p2p_fragments_received = 0;
  std::uint64_t p2p_duplicates = 0;
  std::uint64_t unexpected_fragments = 0;  ///< arrived before their receive was posted
  std::uint64_t dropped = 0;               ///< packets for no known operation or malformed
};

class HostEndpoint {
 public:
  explicit HostEndpoint(EndpointConfig config);
  ~HostEndpoint();

  /// Starts an in-network all-reduce; its first window of chunks goes to `out`.
  Result<OpId> start_innet(const InnetAllreduce& spec, Time now, Outbox& out);
  /// Sends `bytes` to world rank `dst` with `tag` (eager: data is copied now).
  Result<OpId> post_send(std::uint32_t dst, std::uint16_t tag, const void* data, std::size_t bytes,
                         Outbox& out);
  /// Receives exactly `bytes` from world rank `src` with `tag` into `data`.
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
  /// Fails every pending operation with `why` (a fabric that can no longer progress).
  void abort_all(const Status& why);

  const EndpointCounters& counters() const { return counters_; }
  const EndpointConfig& config() const { return config_; }

 private:
  struct InnetOp;
  struct RecvOp;
  struct Message;
  void transmit(wire::Packet&& p, Outbox& out);
  void send_chunk(InnetOp& op, std::uint32_t chunk, Time now, Outbox& out);
  void on_result(const wire::Packet& p, Time now, Outbox& out);
  void on_p2p(const wire::Packet& p);
  void deliver_fragment(RecvOp& r, const wire::Packet& p);
  void finish(OpId id, Status status);

  EndpointConfig config_;
  EndpointCounters counters_;
  OpId next_op_ = 1;
  std::unordered_map<OpId, Status> finished_;
  std::unordered_map<OpId, std::unique_ptr<InnetOp>> innet_;          // by op id
  std::map<std::uint16_t, std::uint32_t> tree_next_seq_;              // per tree, across ops
  std::map<std::uint16_t, OpId> tree_active_;                         // tree -> running op
  std::unordered_map<std::uint64_t, std::unique_ptr<RecvOp>> recvs_;  // by message key
  std::unordered_map<OpId, std::uint64_t> recv_keys_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Message>> unexpected_;
  std::unordered_map<std::uint32_t, std::uint16_t> send_msg_no_;  // (dst,tag) -> next number
  std::unordered_map<std::uint32_t, std::uint16_t> recv_msg_no_;  // (src,tag) -> next number
  void prune_timers();
  InnetOp* find_innet(OpId id);
  void forget_innet(OpId id);
  InnetOp* last_innet_ = nullptr;  // cache for find_innet
  // Chunk deadlines; entries of answered chunks are skipped lazily.
  DeadlineQueue timers_;
};

}  // namespace inca::protocol
