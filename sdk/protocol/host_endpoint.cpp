#include "protocol/host_endpoint.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "protocol/reliable_p2p.hpp"
#include "wire/error_payload.hpp"

namespace inca::protocol {

struct HostEndpoint::InnetOp {
  // The state of a chunk between its first send and its result. Chunk c + W
  // is sent only once chunk c is answered, so a ring of W entries (by chunk
  // mod W) holds every outstanding chunk: the state a rank touches stays a
  // few KiB however large the message, instead of arrays as long as the
  // message that miss the cache on every chunk.
  struct InFlight {
    std::uint32_t chunk = kNoChunk;  // the chunk this entry now belongs to
    std::uint32_t retries = 0;
    Time deadline = kNever;  // of the outstanding send
    Time first_sent = kNever;
    // Allowance for the chunks outstanding ahead of it. Segment mode: how
    // long the last send's first packet waited here (book_on_nic()).
    Time drain = 0;
    Time last_sent = kNever;
    std::uint64_t wire_bytes = 0;  // framing of every packet included
  };
  static constexpr std::uint32_t kNoChunk = 0xffffffffu;

  OpId id;
  InnetAllreduce spec;
  std::uint32_t base_seq;  // sequence of chunk 0
  std::uint32_t chunks;
  std::uint32_t elems_per_chunk;
  std::uint32_t elems_per_packet;  // elems_per_chunk but in segment mode
  std::uint32_t completed = 0;
  std::vector<InFlight> in_flight;  // by chunk mod window

  InFlight& entry(std::uint32_t c) { return in_flight[c % in_flight.size()]; }
  /// Segment mode: each chunk stands for several wire packets.
  bool segments() const { return elems_per_chunk != elems_per_packet; }
  /// The outstanding state of chunk c, or nullptr when c is not outstanding.
  InFlight* outstanding(std::uint32_t c) {
    if (c >= chunks) return nullptr;
    InFlight& f = entry(c);
    return f.chunk == c ? &f : nullptr;
  }
};

HostEndpoint::HostEndpoint(EndpointConfig config)
    : config_(std::move(config)),
      innet_rto_(config_.initial_retransmit_timeout > 0 ? config_.initial_retransmit_timeout
                                                        : config_.retransmit_timeout,
                 config_.min_retransmit_timeout, config_.retransmit_timeout,
                 config_.adaptive_timeout) {
  p2p_ = std::make_unique<P2pChannel>(
      config_, ops_, counters_,
      [this](wire::Packet&& p, Outbox& out) { transmit(std::move(p), out); });
}
HostEndpoint::~HostEndpoint() = default;

void HostEndpoint::transmit(wire::Packet&& p, Outbox& out) {
  counters_.packets_sent += p.packets;
  counters_.bytes_sent += p.wire_bytes();
  out.push_back(std::move(p));
}

bool HostEndpoint::done(OpId id) const {
  return ops_.done(id);
}

Status HostEndpoint::status(OpId id) const {
  return ops_.status(id);
}

void HostEndpoint::release(OpId id) {
  ops_.release(id);
}

bool HostEndpoint::pending(OpId id) const {
  return innet_.count(id) != 0 || p2p_->pending(id);
}

void HostEndpoint::retire_tag(std::uint16_t tag) {
  p2p_->retire_tag(tag);
}

// ---------------------------------------------------------------- innet ----

namespace {

// Segment mode: K consecutive chunks travel as one chunk of K packets, and
// the window of W chunks becomes W / K such chunks, so the bytes in flight
// stay what the tree's window says. K divides W (the largest that does, up
// to the configured segment) and leaves the operation kMinSegments segments
// at least: an operation of a few segments starts and drains in steps as
// coarse as itself (the two-tier all-reduce's 58 KiB shards of 4 MiB on 144
// gb300 ranks, two segments of 7 chunks, were 2.8 % off packet mode).
constexpr std::size_t kMinSegments = 16;

InnetAllreduce in_segments(InnetAllreduce spec, std::uint32_t segment_packets, std::size_t esize) {
  if (spec.slot_payload_bytes < esize) return spec;
  const std::size_t per_chunk = spec.slot_payload_bytes / esize;
  const std::size_t chunks = (spec.count + per_chunk - 1) / per_chunk;
  std::uint32_t k = static_cast<std::uint32_t>(
      std::min<std::size_t>({segment_packets, spec.window, chunks / kMinSegments}));
  while (k > 1 && spec.window % k != 0) --k;
  if (k <= 1) return spec;
  spec.window /= k;
  spec.slot_payload_bytes =
      static_cast<std::uint32_t>(k * (spec.slot_payload_bytes / esize) * esize);
  spec.chunk_service *= k;
  return spec;
}

// True when elements [first, first + n) meet [begin, end): a chunk of a held
// or kept range.
bool meets(std::size_t first, std::size_t n, std::size_t begin, std::size_t end) {
  return first < end && first + n > begin;
}

}  // namespace

Result<OpId> HostEndpoint::start_innet(const InnetAllreduce& asked, Time now, Outbox& out) {
  last_now_ = now;
  const std::size_t esize = dtype_size(asked.dtype);
  const InnetAllreduce spec = in_segments(asked, config_.segment_packets, esize);
  INCA_RETURN_IF_ERROR(check_op(spec.op, spec.dtype));
  if (spec.window == 0 || spec.slot_payload_bytes < esize)
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("rank {}: tree {}: window {} and slot payload {} B cannot carry {}",
                    config_.rank, spec.tree, spec.window, spec.slot_payload_bytes,
                    to_string(spec.dtype)));
  if (spec.count > 0 && !config_.timing_only && (spec.send == nullptr || spec.recv == nullptr))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("rank {}: tree {}: null buffer for {} elements", config_.rank,
                                  spec.tree, spec.count));
  if ((spec.held_first > 0 || spec.held_end < spec.count) && !zero_is_identity(spec.op, spec.dtype))
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("rank {}: tree {}: a {} {} reduction cannot leave chunks out: "
                    "zero is not its identity",
                    config_.rank, spec.tree, to_string(spec.dtype), to_string(spec.op)));
  const std::size_t elems_per_chunk = spec.slot_payload_bytes / esize;
  if ((spec.count + elems_per_chunk - 1) / elems_per_chunk > 0x7fffffffu)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("rank {}: tree {}: {} elements need more than 2^31 chunks",
                                  config_.rank, spec.tree, spec.count));
  if (tree_active_.count(spec.tree))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("rank {}: tree {} already runs an operation on this rank",
                                  config_.rank, spec.tree));
  auto op = std::make_unique<InnetOp>();
  op->id = ops_.next();
  op->spec = spec;
  op->elems_per_chunk = static_cast<std::uint32_t>(elems_per_chunk);
  op->elems_per_packet =
      std::max<std::uint32_t>(1, static_cast<std::uint32_t>(asked.slot_payload_bytes / esize));
  op->chunks =
      static_cast<std::uint32_t>((spec.count + op->elems_per_chunk - 1) / op->elems_per_chunk);
  op->base_seq = tree_next_seq_[spec.tree];
  tree_next_seq_[spec.tree] = op->base_seq + op->chunks;
  op->in_flight.resize(std::min(op->chunks, spec.window));
  const OpId id = op->id;
  if (op->chunks == 0) {
    ops_.finish(id, {});
    return id;
  }
  if (op->chunks > spec.window) counters_.window_full_waits += op->chunks - spec.window;
  InnetOp& ref = *op;
  innet_.emplace(id, std::move(op));
  tree_active_[spec.tree] = id;
  for (std::uint32_t c = 0; c < std::min(ref.chunks, spec.window); ++c)
    send_chunk(ref, c, now, out);
  return id;
}

void HostEndpoint::send_chunk(InnetOp& op, std::uint32_t chunk, Time now, Outbox& out) {
  const InnetAllreduce& s = op.spec;
  const std::size_t first = std::size_t{chunk} * op.elems_per_chunk;
  const std::size_t n = std::min<std::size_t>(op.elems_per_chunk, s.count - first);
  const std::uint32_t seq = op.base_seq + chunk;
  wire::Packet p;
  p.header.type = wire::PacketType::contribution;
  p.header.flags =
      static_cast<std::uint8_t>(s.flags | (chunk + 1 == op.chunks ? wire::kFlagLast : 0));
  p.header.dtype = s.dtype;
  p.header.op = s.op;
  p.header.attempt_tag = s.attempt_tag;
  p.header.child = s.child_index;
  p.header.job = config_.job;
  p.header.key_tag = config_.key_tag;
  p.header.tree = s.tree;
  p.header.slot = static_cast<std::uint16_t>(seq % s.window);
  p.header.shadow = ((seq / s.window) % 2) != 0;
  p.header.sequence = seq;
  p.header.count = static_cast<std::uint32_t>(n);
  split_into_packets(p, n * dtype_size(s.dtype), op.elems_per_packet * dtype_size(s.dtype));
  const bool held = meets(first, n, s.held_first, s.held_end);
  const bool kept = meets(first, n, s.kept_first, s.kept_end);
  if (!kept) p.header.flags |= wire::kFlagHeaderOnly;
  if (!held) {
    p.header.flags |= wire::kFlagIdentity;
    ++counters_.identity_contributions_sent;
  } else if (!config_.timing_only)
    p.payload =
        wire::make_payload(static_cast<const std::byte*>(s.send) + first * dtype_size(s.dtype),
                           n * dtype_size(s.dtype));
  p.src = config_.address;
  ++counters_.contributions_sent;
  // A chunk waits on the busier way of this host's link: its upload, or its
  // result's download. An identity chunk goes up as headers but its result
  // comes down whole, behind the window's other results: timed as the
  // upload, its timers would fire while the results are still queued.
  const bool timed_by_answer = !held && kept;
  wire::Packet answer;  // sized as the whole result; it carries no payload
  if (timed_by_answer) {
    answer = p;
    answer.header.flags &=
        static_cast<std::uint8_t>(~(wire::kFlagIdentity | wire::kFlagHeaderOnly));
  }
  const wire::Packet& timed = timed_by_answer ? answer : p;
  InnetOp::InFlight& f = op.entry(chunk);
  // The switch's service time is per wire packet: a segment short of K
  // packets (an operation's last, or a small one) takes that much less.
  const Time service = s.chunk_service / (op.elems_per_chunk / op.elems_per_packet) * p.packets;
  const bool first_send = f.chunk != chunk;
  if (first_send) {
    f = InnetOp::InFlight{chunk, 0, kNever, now, 0};
    f.wire_bytes = timed.wire_bytes();
    innet_outstanding_bytes_ += f.wire_bytes;
    ++innet_outstanding_chunks_;
  }
  if (op.segments()) {
    // Segment mode hands a result over when its head arrives, an operation's
    // last when its tail does (the operation ends there): every send waits
    // what its first packet waits, the last all of itself.
    const bool last = chunk + 1 == op.chunks;
    f.drain =
        book_on_nic(timed, service, now) +
        (last ? drain_time(timed.wire_bytes() - timed.first_wire_bytes(), config_.nic_gbps) : 0);
  } else if (first_send) {
    const Time own = drain_time(f.wire_bytes, config_.nic_gbps);
    f.drain = local_drain(config_, innet_outstanding_bytes_, innet_outstanding_chunks_) +
              static_cast<Time>(innet_outstanding_chunks_) * std::max<Time>(0, service - own);
  }
  f.last_sent = now;
  f.deadline = now + f.drain + innet_rto_.timeout(f.retries, config_.max_backoff_shift);
  timers_.push(f.retries, {f.deadline, op.id, chunk});
  transmit(std::move(p), out);
}

void HostEndpoint::on_result(const wire::Packet& p, Time now, Outbox& out) {
  const wire::Header& h = p.header;
  auto active = tree_active_.find(h.tree);
  if (active == tree_active_.end() || h.job != config_.job) {
    ++counters_.duplicate_results;  // a late repeat for a finished operation
    return;
  }
  InnetOp& op = *find_innet(active->second);
  const std::uint32_t chunk = h.sequence - op.base_seq;
  InnetOp::InFlight* f = op.outstanding(chunk);
  if (!f) {  // answered already (or never sent: a forged result)
    ++counters_.duplicate_results;
    return;
  }
  const std::size_t first = std::size_t{chunk} * op.elems_per_chunk;
  const std::size_t n = std::min<std::size_t>(op.elems_per_chunk, op.spec.count - first);
  const std::size_t esize = dtype_size(op.spec.dtype);
  const bool other_attempt = h.attempt_tag != op.spec.attempt_tag;
  // A header-only answer is what this rank asked for where it keeps nothing.
  const bool kept = meets(first, n, op.spec.kept_first, op.spec.kept_end);
  const bool header_only = h.has(wire::kFlagHeaderOnly);
  const bool identity = !header_only && h.has(wire::kFlagIdentity);
  const bool data = !header_only && !identity && !config_.timing_only;
  if (h.count != n || h.dtype != op.spec.dtype || h.op != op.spec.op || other_attempt ||
      (header_only && kept) || (identity && !zero_is_identity(h.op, h.dtype)) ||
      (data && (!p.payload || p.payload->size() != n * esize))) {
    ++counters_.dropped;
    return;
  }
  ++counters_.results_received;
  auto* dst = static_cast<std::byte*>(op.spec.recv) + first * esize;
  if (!config_.timing_only && identity)
    std::memset(dst, 0, n * esize);  // nobody held any of it
  else if (data && kept)
    std::memcpy(dst, p.payload->data(), n * esize);
  // A result sooner after the resend than any round trip answers an earlier
  // send, which was late, not lost: the resend was needless (RFC 3522's
  // Eifel detection, by timing instead of timestamps). A duplicate result
  // proves less: when one host's contribution is lost, every host resends
  // and the switch answers the needless resends too.
  if (f->retries > 0 &&
      now - f->last_sent - (op.segments() ? f->drain : 0) < innet_rto_.min_round_trip()) {
    innet_rto_.spurious();
    retime(op, Retime::later);
  }
  // Karn's rule; the drain allowance is the local queue, not the network.
  if (f->retries == 0 && innet_rto_.sample(std::max<Time>(0, now - f->first_sent - f->drain)))
    retime(op, Retime::sooner);
  innet_outstanding_bytes_ -= f->wire_bytes;
  --innet_outstanding_chunks_;
  f->chunk = InnetOp::kNoChunk;
  ++op.completed;
  // The result is the ACK that frees the slot for the chunk a window ahead.
  const std::uint32_t next = chunk + op.spec.window;
  if (next < op.chunks) send_chunk(op, next, now, out);
  if (op.completed == op.chunks) {
    tree_active_.erase(h.tree);
    const OpId id = op.id;
    forget_innet(id);
    ops_.finish(id, {});
  }
}

// Segment mode answers a segment when the head of its result arrives, while
// the NIC may still be sending the segment's tail: the next segment's head
// waits behind it, as packet mode's chunks wait behind the window's chunks
// still outstanding. The host's in-network sends, one after another at the
// NIC's rate (or the switch's, when its ALU is the slower), give that wait.
Time HostEndpoint::book_on_nic(const wire::Packet& p, Time service, Time now) {
  const Time start = std::max(now, innet_tx_free_);
  innet_tx_free_ = start + std::max(local_drain(config_, p.wire_bytes(), p.packets), service);
  return start - now + local_drain(config_, p.first_wire_bytes(), 1);
}

// Times each outstanding chunk of `op` with the timeout now in force, where
// that moves its deadline the way asked. Sooner (from its first send): the
// first estimate replaces the initial timeout, so chunks sent before it do
// not wait out the (much longer) initial timeout when lost. Later (from its
// last send): the Eifel response, the timeout was too short for the path as
// it is now, so the chunks still timed against it get the longer one instead
// of each expiring (and being resent needlessly) before its answer as well.
void HostEndpoint::retime(InnetOp& op, Retime way) {
  const bool later = way == Retime::later;
  for (InnetOp::InFlight& f : op.in_flight) {
    if (f.chunk == InnetOp::kNoChunk) continue;
    const Time due = (later ? f.last_sent : f.first_sent) + f.drain +
                     innet_rto_.timeout(f.retries, config_.max_backoff_shift);
    if (later ? due <= f.deadline : due >= f.deadline) continue;
    f.deadline = due;
    timers_.push(f.retries, {due, op.id, f.chunk});
  }
}

void HostEndpoint::fail_innet(InnetOp& op, Status why) {
  for (const InnetOp::InFlight& f : op.in_flight)
    if (f.chunk != InnetOp::kNoChunk) {
      innet_outstanding_bytes_ -= f.wire_bytes;
      --innet_outstanding_chunks_;
    }
  tree_active_.erase(op.spec.tree);
  const OpId id = op.id;
  forget_innet(id);
  ops_.finish(id, std::move(why));
}

void HostEndpoint::on_error(const wire::Packet& p) {
  const wire::Header& h = p.header;
  auto active = tree_active_.find(h.tree);
  auto error = wire::parse_error_payload(p.payload_span());
  if (active == tree_active_.end() || !error) {
    ++counters_.dropped;  // for no running operation (a late repeat), or malformed
    return;
  }
  InnetOp& op = *find_innet(active->second);
  if (error->chunk_sequence - op.base_seq >= op.chunks) {
    ++counters_.dropped;  // about a chunk of an earlier operation
    return;
  }
  ++counters_.errors_received;
  const bool known =
      h.sequence > 0 && h.sequence <= static_cast<std::uint32_t>(StatusCode::internal);
  fail_innet(op,
             make_error(known ? static_cast<StatusCode>(h.sequence) : StatusCode::mismatch,
                        fmt::format("rank {}: the in-network all-reduce on tree {} was refused: "
                                    "{}",
                                    config_.rank, h.tree, error->message)));
}

// ------------------------------------------------------------------ p2p ----

Result<OpId> HostEndpoint::post_send(std::uint32_t dst, std::uint16_t tag, MessageKind kind,
                                     const void* data, std::size_t bytes, Time now, Outbox& out) {
  last_now_ = std::max(last_now_, now);
  return p2p_->post_send(dst, tag, kind, data, bytes, now, out);
}

Result<OpId> HostEndpoint::post_send(std::uint32_t dst, std::uint16_t tag, const void* data,
                                     std::size_t bytes, Outbox& out) {
  return p2p_->post_send(dst, tag, MessageKind{}, data, bytes, last_now_, out);
}

Result<OpId> HostEndpoint::post_recv(std::uint32_t src, std::uint16_t tag, MessageKind kind,
                                     void* data, std::size_t bytes) {
  return p2p_->post_recv(src, tag, kind, data, bytes);
}

Result<OpId> HostEndpoint::post_recv(std::uint32_t src, std::uint16_t tag, void* data,
                                     std::size_t bytes) {
  return p2p_->post_recv(src, tag, MessageKind{}, data, bytes);
}

// -------------------------------------------------------------- dispatch ----

void HostEndpoint::on_packet(const wire::Packet& p, Time now, Outbox& out) {
  last_now_ = std::max(last_now_, now);
  ++counters_.packets_received;
  if (p.header.job != config_.job || p.header.key_tag != config_.key_tag) {
    ++counters_.dropped;
    return;
  }
  switch (p.header.type) {
    case wire::PacketType::result:
      on_result(p, now, out);
      break;
    case wire::PacketType::p2p:
      p2p_->on_fragment(p, out);
      break;
    case wire::PacketType::ack:
      p2p_->on_ack(p, now, out);
      break;
    case wire::PacketType::error:
      on_error(p);
      break;
    default:
      ++counters_.dropped;
  }
  prune_timers();
}

HostEndpoint::InnetOp* HostEndpoint::find_innet(OpId id) {
  // Operations are few and the newest is the one most asked for.
  if (last_innet_ && last_innet_->id == id) return last_innet_;
  auto it = innet_.find(id);
  last_innet_ = it == innet_.end() ? nullptr : it->second.get();
  return last_innet_;
}

void HostEndpoint::forget_innet(OpId id) {
  if (last_innet_ && last_innet_->id == id) last_innet_ = nullptr;
  innet_.erase(id);
}

void HostEndpoint::prune_timers() {
  while (!timers_.empty()) {
    const ChunkDeadline& t = timers_.top();
    InnetOp* op = find_innet(t.op);
    const InnetOp::InFlight* f = op ? op->outstanding(t.chunk) : nullptr;
    if (f && f->deadline == t.deadline) break;
    timers_.pop();
  }
}

void HostEndpoint::on_timer(Time now, Outbox& out) {
  last_now_ = std::max(last_now_, now);
  prune_timers();
  while (!timers_.empty() && timers_.top().deadline <= now) {
    const ChunkDeadline t = timers_.top();
    timers_.pop();
    InnetOp* found = find_innet(t.op);
    InnetOp::InFlight* f = found ? found->outstanding(t.chunk) : nullptr;
    if (!f || f->deadline != t.deadline) continue;
    InnetOp& op = *found;
    const Time waited = now - f->first_sent;
    if (f->retries >= config_.max_retransmits ||
        (config_.give_up_after != kNever && waited >= config_.give_up_after)) {
      ++counters_.timeouts;
      fail_innet(op, make_error(StatusCode::timeout,
                                fmt::format("rank {}: chunk {} of the in-network all-reduce on "
                                            "tree {} got no result after {} retransmissions in "
                                            "{:.1f} us",
                                            config_.rank, t.chunk, op.spec.tree, f->retries,
                                            to_micros(waited))));
      continue;
    }
    ++f->retries;
    ++counters_.retransmissions;
    send_chunk(op, t.chunk, now, out);
    prune_timers();
  }
  p2p_->on_timer(now, out);
}

Time HostEndpoint::next_deadline() const {
  const Time innet = timers_.empty() ? kNever : timers_.top().deadline;
  return std::min(innet, p2p_->next_deadline());
}

void HostEndpoint::abort_all(const Status& why) {
  for (auto& [id, op] : innet_) ops_.finish(id, why);
  innet_.clear();
  innet_outstanding_bytes_ = 0;
  innet_outstanding_chunks_ = 0;
  last_innet_ = nullptr;
  tree_active_.clear();
  timers_.clear();
  p2p_->abort_all(why);
}

}  // namespace inca::protocol
