#include "protocol/host_endpoint.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace inca::protocol {
namespace {

// Point-to-point messages are matched by (source rank, tag, message number).
std::uint64_t message_key(std::uint32_t peer, std::uint16_t tag, std::uint16_t msg_no) {
  return (std::uint64_t{peer} << 32) | (std::uint64_t{tag} << 16) | msg_no;
}
std::uint32_t stream_key(std::uint32_t peer, std::uint16_t tag) {
  return (peer << 16) | tag;
}
constexpr std::uint16_t kMsgNoMask = wire::kMaxSlot;

}  // namespace

struct HostEndpoint::InnetOp {
  OpId id;
  InnetAllreduce spec;
  std::uint32_t base_seq;  // sequence of chunk 0
  std::uint32_t chunks;
  std::uint32_t elems_per_chunk;
  std::uint32_t completed = 0;
  std::vector<std::uint8_t> answered;  // per chunk
  std::vector<Time> deadline;          // per chunk, of the outstanding send
  std::vector<std::uint8_t> retries;   // per chunk
};

// A message being received: either into a posted buffer or, unexpected, kept
// as fragment payload references until its receive is posted.
struct HostEndpoint::Message {
  std::size_t received = 0;
  std::size_t total = SIZE_MAX;         // known once the last fragment arrived
  std::vector<std::uint8_t> have;       // per fragment index
  std::vector<wire::Packet> fragments;  // unexpected only
};

struct HostEndpoint::RecvOp {
  OpId id;
  std::byte* data;
  std::size_t bytes;
  std::uint32_t src;
  std::uint16_t tag;
  Message msg;
};

HostEndpoint::HostEndpoint(EndpointConfig config) : config_(std::move(config)) {}
HostEndpoint::~HostEndpoint() = default;

void HostEndpoint::transmit(wire::Packet&& p, Outbox& out) {
  ++counters_.packets_sent;
  counters_.bytes_sent += p.wire_bytes();
  out.push_back(std::move(p));
}

void HostEndpoint::finish(OpId id, Status status) {
  finished_[id] = std::move(status);
}

bool HostEndpoint::done(OpId id) const {
  return finished_.count(id) != 0;
}

Status HostEndpoint::status(OpId id) const {
  auto it = finished_.find(id);
  return it == finished_.end() ? Status() : it->second;
}

void HostEndpoint::release(OpId id) {
  finished_.erase(id);
}

// ---------------------------------------------------------------- innet ----

Result<OpId> HostEndpoint::start_innet(const InnetAllreduce& spec, Time now, Outbox& out) {
  const std::size_t esize = dtype_size(spec.dtype);
  INCA_RETURN_IF_ERROR(check_op(spec.op, spec.dtype));
  if (spec.window == 0 || spec.slot_payload_bytes < esize)
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("tree {}: window {} and slot payload {} B cannot carry {}", spec.tree,
                    spec.window, spec.slot_payload_bytes, to_string(spec.dtype)));
  if (tree_active_.count(spec.tree))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("tree {} already runs an operation on this rank", spec.tree));
  auto op = std::make_unique<InnetOp>();
  op->id = next_op_++;
  op->spec = spec;
  op->elems_per_chunk = static_cast<std::uint32_t>(spec.slot_payload_bytes / esize);
  op->chunks =
      static_cast<std::uint32_t>((spec.count + op->elems_per_chunk - 1) / op->elems_per_chunk);
  op->base_seq = tree_next_seq_[spec.tree];
  tree_next_seq_[spec.tree] = op->base_seq + op->chunks;
  op->answered.assign(op->chunks, 0);
  op->deadline.assign(op->chunks, kNever);
  op->retries.assign(op->chunks, 0);
  const OpId id = op->id;
  if (op->chunks == 0) {
    finish(id, {});
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
  p.header.child = s.child_index;
  p.header.job = config_.job;
  p.header.key_tag = config_.key_tag;
  p.header.tree = s.tree;
  p.header.slot = static_cast<std::uint16_t>(seq % s.window);
  p.header.shadow = ((seq / s.window) % 2) != 0;
  p.header.sequence = seq;
  p.header.count = static_cast<std::uint32_t>(n);
  if (!config_.timing_only)
    p.payload =
        wire::make_payload(static_cast<const std::byte*>(s.send) + first * dtype_size(s.dtype),
                           n * dtype_size(s.dtype));
  p.src = config_.address;
  ++counters_.contributions_sent;
  const Time timeout = config_.retransmit_timeout << std::min<int>(op.retries[chunk], 16);
  op.deadline[chunk] = now + timeout;
  timers_.push(op.retries[chunk], {op.deadline[chunk], op.id, chunk});
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
  if (chunk >= op.chunks || op.answered[chunk]) {
    ++counters_.duplicate_results;
    return;
  }
  const std::size_t first = std::size_t{chunk} * op.elems_per_chunk;
  const std::size_t n = std::min<std::size_t>(op.elems_per_chunk, op.spec.count - first);
  const std::size_t esize = dtype_size(op.spec.dtype);
  if (h.count != n || h.dtype != op.spec.dtype || h.op != op.spec.op ||
      (!config_.timing_only && (!p.payload || p.payload->size() != n * esize))) {
    ++counters_.dropped;
    return;
  }
  ++counters_.results_received;
  if (!config_.timing_only)
    std::memcpy(static_cast<std::byte*>(op.spec.recv) + first * esize, p.payload->data(),
                n * esize);
  op.answered[chunk] = 1;
  op.deadline[chunk] = kNever;
  ++op.completed;
  // The result is the ACK that frees the slot for the chunk a window ahead.
  const std::uint32_t next = chunk + op.spec.window;
  if (next < op.chunks) send_chunk(op, next, now, out);
  if (op.completed == op.chunks) {
    tree_active_.erase(h.tree);
    const OpId id = op.id;
    forget_innet(id);
    finish(id, {});
  }
}

// ------------------------------------------------------------------ p2p ----

Result<OpId> HostEndpoint::post_send(std::uint32_t dst, std::uint16_t tag, const void* data,
                                     std::size_t bytes, Outbox& out) {
  if (dst >= config_.rank_address.size())
    return make_error(StatusCode::invalid_argument,
                      fmt::format("send to rank {} of {}", dst, config_.rank_address.size()));
  if (bytes > 0 && data == nullptr && !config_.timing_only)
    return make_error(StatusCode::invalid_argument, "send of non-zero bytes from a null buffer");
  const std::uint16_t msg_no = send_msg_no_[stream_key(dst, tag)]++ & kMsgNoMask;
  const std::size_t frag = config_.p2p_payload_bytes;
  std::size_t offset = 0;
  do {
    const std::size_t n = std::min(frag, bytes - offset);
    wire::Packet p;
    p.header.type = wire::PacketType::p2p;
    p.header.flags = offset + n == bytes ? wire::kFlagLast : 0;
    p.header.child = static_cast<std::uint16_t>(config_.rank);
    p.header.job = config_.job;
    p.header.key_tag = config_.key_tag;
    p.header.tree = tag;
    p.header.slot = msg_no;
    p.header.sequence = static_cast<std::uint32_t>(offset);
    p.header.count = static_cast<std::uint32_t>(n);
    if (!config_.timing_only && n > 0)
      p.payload = wire::make_payload(static_cast<const std::byte*>(data) + offset, n);
    p.src = config_.address;
    p.dst = config_.rank_address[dst];
    ++counters_.p2p_fragments_sent;
    transmit(std::move(p), out);
    offset += n;
  } while (offset < bytes);
  const OpId id = next_op_++;
  finish(id, {});
  return id;
}

Result<OpId> HostEndpoint::post_recv(std::uint32_t src, std::uint16_t tag, void* data,
                                     std::size_t bytes) {
  if (src >= config_.rank_address.size())
    return make_error(StatusCode::invalid_argument,
                      fmt::format("receive from rank {} of {}", src, config_.rank_address.size()));
  if (bytes > 0 && data == nullptr && !config_.timing_only)
    return make_error(StatusCode::invalid_argument, "receive of non-zero bytes into a null buffer");
  const std::uint16_t msg_no = recv_msg_no_[stream_key(src, tag)]++ & kMsgNoMask;
  const std::uint64_t key = message_key(src, tag, msg_no);
  auto r = std::make_unique<RecvOp>();
  r->id = next_op_++;
  r->data = static_cast<std::byte*>(data);
  r->bytes = bytes;
  r->src = src;
  r->tag = tag;
  const OpId id = r->id;
  RecvOp& ref = *r;
  recvs_.emplace(key, std::move(r));
  recv_keys_.emplace(id, key);
  if (auto it = unexpected_.find(key); it != unexpected_.end()) {
    std::unique_ptr<Message> early = std::move(it->second);
    unexpected_.erase(it);
    for (const wire::Packet& frag : early->fragments) {
      if (done(id)) break;
      deliver_fragment(ref, frag);
    }
  }
  return id;
}

void HostEndpoint::on_p2p(const wire::Packet& p) {
  const wire::Header& h = p.header;
  const std::uint64_t key = message_key(h.child, h.tree, h.slot);
  ++counters_.p2p_fragments_received;
  if (auto it = recvs_.find(key); it != recvs_.end()) {
    deliver_fragment(*it->second, p);
    return;
  }
  auto& msg = unexpected_[key];
  if (!msg) msg = std::make_unique<Message>();
  ++counters_.unexpected_fragments;
  msg->fragments.push_back(p);
}

void HostEndpoint::deliver_fragment(RecvOp& r, const wire::Packet& p) {
  const wire::Header& h = p.header;
  Message& m = r.msg;
  const std::size_t index = h.sequence / config_.p2p_payload_bytes;
  if (m.have.size() <= index) m.have.resize(index + 1, 0);
  if (m.have[index]) {
    ++counters_.p2p_duplicates;
    return;
  }
  auto fail = [&](std::string why) {
    const std::uint64_t key = recv_keys_.at(r.id);
    recv_keys_.erase(r.id);
    finish(r.id, make_error(StatusCode::mismatch, std::move(why)));
    recvs_.erase(key);  // destroys r
  };
  const std::size_t end = std::size_t{h.sequence} + h.count;
  if (end > r.bytes)
    return fail(fmt::format("rank {} expected {} B from rank {} (tag {}), the message is larger",
                            config_.rank, r.bytes, r.src, r.tag));
  m.have[index] = 1;
  if (!config_.timing_only && h.count > 0) {
    if (!p.payload || p.payload->size() != h.count) return fail("p2p fragment without its payload");
    std::memcpy(r.data + h.sequence, p.payload->data(), h.count);
  }
  m.received += h.count;
  if (h.has(wire::kFlagLast)) m.total = end;
  if (m.total != SIZE_MAX && m.received == m.total) {
    if (m.total != r.bytes)
      return fail(fmt::format("rank {} expected {} B from rank {} (tag {}), got {} B", config_.rank,
                              r.bytes, r.src, r.tag, m.total));
    const std::uint64_t key = recv_keys_.at(r.id);
    recv_keys_.erase(r.id);
    finish(r.id, {});
    recvs_.erase(key);
  }
}

// -------------------------------------------------------------- dispatch ----

void HostEndpoint::on_packet(const wire::Packet& p, Time now, Outbox& out) {
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
      on_p2p(p);
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
    const InnetOp* op = find_innet(t.op);
    if (op && op->deadline[t.chunk] == t.deadline) break;
    timers_.pop();
  }
}

void HostEndpoint::on_timer(Time now, Outbox& out) {
  prune_timers();
  while (!timers_.empty() && timers_.top().deadline <= now) {
    const ChunkDeadline t = timers_.top();
    timers_.pop();
    InnetOp* found = find_innet(t.op);
    if (!found || found->deadline[t.chunk] != t.deadline) continue;
    InnetOp& op = *found;
    if (op.retries[t.chunk] >= config_.max_retransmits) {
      const Status why = make_error(
          StatusCode::timeout,
          fmt::format("rank {}: chunk {} of the in-network all-reduce on tree {} got no result "
                      "after {} retransmissions",
                      config_.rank, t.chunk, op.spec.tree, op.retries[t.chunk]));
      tree_active_.erase(op.spec.tree);
      const OpId id = op.id;
      forget_innet(id);
      finish(id, why);
      continue;
    }
    ++op.retries[t.chunk];
    ++counters_.retransmissions;
    send_chunk(op, t.chunk, now, out);
    prune_timers();
  }
}

Time HostEndpoint::next_deadline() const {
  return timers_.empty() ? kNever : timers_.top().deadline;
}

void HostEndpoint::abort_all(const Status& why) {
  for (auto& [id, op] : innet_) finish(id, why);
  innet_.clear();
  last_innet_ = nullptr;
  tree_active_.clear();
  for (auto& [key, r] : recvs_) finish(r->id, why);
  recvs_.clear();
  recv_keys_.clear();
  timers_.clear();
}

}  // namespace inca::protocol
