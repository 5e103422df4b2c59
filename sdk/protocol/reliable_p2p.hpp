// Point-to-point messages of one endpoint, sans-I/O: fragmentation, matching
// (by source, tag and per-stream message number, in posting order),
// reassembly in any fragment order, duplicate suppression, and, when the
// endpoint is configured reliable, acknowledgements and retransmission with
// backoff. Delivery is idempotent: a fragment that arrives twice, or after its
// message was consumed, is never written again. docs/reliability.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>

#include <boost/container/flat_set.hpp>

#include "inca/status.hpp"
#include "protocol/deadline_queue.hpp"
#include "protocol/endpoint_types.hpp"
#include "protocol/p2p_streams.hpp"
#include "protocol/rto_estimator.hpp"

namespace inca::protocol {

class P2pChannel {
 public:
  /// `transmit` puts one packet in an outbox (and counts it).
  using Transmit = std::function<void(wire::Packet&&, Outbox&)>;
  P2pChannel(const EndpointConfig& config, OpTable& ops, EndpointCounters& counters,
             Transmit transmit);
  ~P2pChannel();

  Result<OpId> post_send(std::uint32_t dst, std::uint16_t tag, MessageKind kind, const void* data,
                         std::size_t bytes, Time now, Outbox& out);
  Result<OpId> post_recv(std::uint32_t src, std::uint16_t tag, MessageKind kind, void* data,
                         std::size_t bytes);

  void on_fragment(const wire::Packet& p, Outbox& out);
  void on_ack(const wire::Packet& p, Time now, Outbox& out);
  void on_timer(Time now, Outbox& out);
  Time next_deadline() const;

  /// The collective that used `tag` is over: pending receives on it are
  /// dropped (nobody waits for them), sends on it finish unobserved, and
  /// fragments that still arrive are acknowledged and discarded. The last
  /// kRetiredTags retired tags are remembered.
  void retire_tag(std::uint16_t tag);
  static constexpr std::size_t kRetiredTags = 4096;
  /// Fragments of one message buffered before its receive is posted: the
  /// bitmap of what arrived grows with the highest offset seen, so a forged
  /// offset near 4 GiB must not make it huge. Later fragments are dropped;
  /// the sender resends them once the receive is posted.
  static constexpr std::size_t kMaxEarlyFragments = std::size_t{1} << 16;

  /// Fails every pending send and receive with `why`.
  void abort_all(const Status& why);
  /// True while `id` is a pending send or receive of this channel.
  bool pending(OpId id) const;

 private:
  using OutMessage = p2p::OutMessage;
  using Incoming = p2p::Incoming;
  using Stream = p2p::RecvStream;

  /// The live sent message (dst, tag, number), or nullptr; `stream` is set
  /// to the stream that holds it.
  OutMessage* find_sent(std::uint32_t dst, std::uint16_t tag, std::uint16_t number,
                        p2p::SendStream** stream = nullptr);
  /// The message left the channel (acknowledged, given up, superseded).
  void drop_sent(p2p::SendStream& s, OutMessage& m);
  /// Ends a receive and consumes its message; acknowledges it into `out`
  /// unless that is null.
  void finish_recv(Stream& s, std::uint16_t msg_no, Incoming& in, Status status, Outbox* out);
  /// Writes one new fragment into a posted receive; a failed check ends it.
  bool deliver(Stream& s, std::uint16_t msg_no, Incoming& in, const wire::Packet& p, Outbox* out);
  void consume(Stream& s, std::uint16_t msg_no);
  void send_ack(const wire::Header& of, const Incoming* in, Outbox& out);
  /// Ends a send's operation, unless it completed eagerly.
  void finish_send(OutMessage& m, Status status);
  void probe(OutMessage& m, Time now, Outbox& out);
  void resend_missing(OutMessage& m, Time now, Outbox& out);
  /// Sets the message's next deadline after `bytes` were (re)sent.
  void arm(OutMessage& m, Time now, std::uint64_t bytes);
  /// Whether fragments on `tag` are dropped (cached in the stream).
  bool retired(Stream& s);
  void prune_timers();
  void rearm_all();
  template <typename F>
  void for_each_sent(F&& f);

  const EndpointConfig& config_;
  OpTable& ops_;
  EndpointCounters& counters_;
  Transmit transmit_;
  RtoEstimator rto_;
  p2p::StreamTable<p2p::SendStream> sends_;  // (dst, tag)
  // Streams of retired tags that still have unacknowledged messages (their
  // numbering restarts in a new stream).
  std::vector<std::unique_ptr<p2p::SendStream>> retired_sends_;
  p2p::StreamTable<Stream> streams_;                // (src, tag)
  boost::container::flat_set<OpId> pending_recvs_;  // ids only grow: inserts at the end
  std::unordered_set<std::uint16_t> retired_;
  std::deque<std::uint16_t> retired_order_;
  std::uint64_t retire_generation_ = 0;  // changes whenever retired_ does
  DeadlineQueue timers_;                 // op = p2p::message_key
  std::uint64_t unacked_bytes_ = 0;      // wire bytes of the live sent messages
  std::uint64_t unacked_messages_ = 0;
};

}  // namespace inca::protocol
