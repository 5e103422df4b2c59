#include "protocol/reliable_p2p.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace inca::protocol {
using p2p::before;
using p2p::kNumberMask;
using p2p::message_key;
using p2p::RecvOp;

P2pChannel::P2pChannel(const EndpointConfig& config, OpTable& ops, EndpointCounters& counters,
                       Transmit transmit)
    : config_(config),
      ops_(ops),
      counters_(counters),
      transmit_(std::move(transmit)),
      rto_(config.initial_retransmit_timeout > 0 ? config.initial_retransmit_timeout
                                                 : config.retransmit_timeout,
           config.min_retransmit_timeout, config.retransmit_timeout, config.adaptive_timeout) {}

P2pChannel::~P2pChannel() = default;

// ----------------------------------------------------------------- send ----

Result<OpId> P2pChannel::post_send(std::uint32_t dst, std::uint16_t tag, MessageKind kind,
                                   const void* data, std::size_t bytes, Time now, Outbox& out) {
  if (dst >= config_.rank_address.size())
    return make_error(StatusCode::invalid_argument,
                      fmt::format("rank {}: send to rank {} of {}", config_.rank, dst,
                                  config_.rank_address.size()));
  if (bytes > 0 && data == nullptr && !config_.timing_only)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("rank {}: send of {} B from a null buffer", config_.rank, bytes));
  if (bytes > UINT32_MAX)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("rank {}: a message of {} B exceeds the 4 GiB a point-to-point "
                                  "message can carry",
                                  config_.rank, bytes));
  p2p::SendStream& stream = sends_.get(dst, tag);
  stream.dst = dst;
  stream.tag = tag;
  const std::uint16_t number = stream.next_number++ & kNumberMask;
  const OpId id = ops_.next();
  OutMessage msg;
  OutMessage* m = &msg;
  m->id = id;
  m->dst = dst;
  m->tag = tag;
  m->number = number;
  m->bytes = bytes;
  const std::size_t frag = fragment_bytes(config_);
  std::size_t offset = 0;
  do {
    const std::size_t n = std::min(frag, bytes - offset);
    wire::Packet p;
    p.header.type = wire::PacketType::p2p;
    p.header.flags = offset + n == bytes ? wire::kFlagLast : 0;
    p.header.dtype = kind.dtype;
    p.header.op = kind.op;
    p.header.child = static_cast<std::uint16_t>(config_.rank);
    p.header.job = config_.job;
    p.header.key_tag = config_.key_tag;
    p.header.tree = tag;
    p.header.slot = number;
    p.header.sequence = static_cast<std::uint32_t>(offset);
    p.header.count = static_cast<std::uint32_t>(n);
    split_into_packets(p, n, config_.p2p_payload_bytes);
    if (!config_.timing_only && n > 0)
      p.payload = wire::make_payload(static_cast<const std::byte*>(data) + offset, n);
    p.src = config_.address;
    p.dst = config_.rank_address[dst];
    ++counters_.p2p_fragments_sent;
    m->wire_bytes += p.wire_bytes();
    if (config_.reliable_p2p) m->fragments.push_back(p);
    transmit_(std::move(p), out);
    offset += n;
  } while (offset < bytes);
  if (!config_.reliable_p2p) {
    ops_.finish(id, {});  // eager: complete once handed to the fabric
    return id;
  }
  if (bytes <= config_.eager_send_bytes) {
    // Eager: the fragments hold a copy, so the caller may reuse its buffer.
    ops_.finish(id, {});
    m->id = 0;
  }
  m->acked.assign(m->fragments.size(), 0);
  m->unacked = m->fragments.size();
  m->first_sent = now;
  unacked_bytes_ += m->wire_bytes;
  ++unacked_messages_;
  // The acknowledgement may wait behind the receiver's own traffic as long as
  // this message waits behind ours: collectives load every rank alike.
  m->drain = 2 * local_drain(config_, unacked_bytes_, unacked_messages_);
  m->deadline = now + m->drain + rto_.timeout(0, config_.max_backoff_shift);
  timers_.push(0, {m->deadline, message_key(dst, tag, number), 0});
  p2p::SendStream* holder = nullptr;
  if (OutMessage* old = find_sent(dst, tag, number, &holder)) {  // 2^15 messages ago
    finish_send(*old, make_error(StatusCode::timeout, "superseded by a newer message"));
    unacked_bytes_ -= old->wire_bytes;
    --unacked_messages_;
    drop_sent(*holder, *old);
  }
  stream.push(std::move(msg));
  return id;
}

void P2pChannel::on_ack(const wire::Packet& p, Time now, Outbox& out) {
  const wire::Header& h = p.header;
  ++counters_.acks_received;
  p2p::SendStream* stream = nullptr;
  OutMessage* found = find_sent(h.child, h.tree, h.slot, &stream);
  if (!found) return;  // a late repeat
  OutMessage& m = *found;
  if (h.has(wire::kFlagLast)) {
    std::fill(m.acked.begin(), m.acked.end(), 1);
    m.unacked = 0;
  } else {
    const auto bitmap = p.payload_span();
    for (std::size_t i = 0; i < m.fragments.size() && i / 8 < bitmap.size(); ++i) {
      const bool bit = (std::to_integer<unsigned>(bitmap[i / 8]) >> (i % 8)) & 1u;
      if (bit && !m.acked[i]) {
        m.acked[i] = 1;
        --m.unacked;
      }
    }
  }
  if (m.unacked > 0) {
    // An answer to a probe: resend what is missing now. Before any timeout a
    // partial answer only means the last fragment overtook others.
    if (m.retries > 0 && m.resent_in_round != m.retries) {
      m.resent_in_round = m.retries;
      resend_missing(m, now, out);
    }
    return;
  }
  // Karn: no samples from retransmitted messages; the drain allowance is the
  // local queue, not the network.
  const bool estimated =
      m.retries == 0 && rto_.sample(std::max<Time>(0, now - m.first_sent - m.drain));
  finish_send(m, {});
  unacked_bytes_ -= m.wire_bytes;
  --unacked_messages_;
  drop_sent(*stream, m);
  if (estimated) rearm_all();
  prune_timers();
}

void P2pChannel::rearm_all() {
  // The first estimate replaces the initial timeout (see HostEndpoint::retime).
  for_each_sent([&](OutMessage& m) {
    const Time sooner = m.first_sent + m.drain + rto_.timeout(m.retries, config_.max_backoff_shift);
    if (sooner >= m.deadline) return;
    m.deadline = sooner;
    timers_.push(m.retries, {sooner, message_key(m.dst, m.tag, m.number), 0});
  });
}

template <typename F>
void P2pChannel::for_each_sent(F&& f) {
  auto each = [&](p2p::SendStream& s) {
    for (OutMessage& m : s.sent)
      if (m.live) f(m);
  };
  sends_.for_each(each);
  for (auto& s : retired_sends_) each(*s);
}

P2pChannel::OutMessage* P2pChannel::find_sent(std::uint32_t dst, std::uint16_t tag,
                                              std::uint16_t number, p2p::SendStream** stream) {
  if (p2p::SendStream* s = sends_.find(dst, tag))
    if (OutMessage* m = s->find(number)) {
      if (stream) *stream = s;
      return m;
    }
  for (auto& s : retired_sends_)
    if (s->dst == dst && s->tag == tag)
      if (OutMessage* m = s->find(number)) {
        if (stream) *stream = s.get();
        return m;
      }
  return nullptr;
}

void P2pChannel::drop_sent(p2p::SendStream& s, OutMessage& m) {
  m.live = false;
  m.fragments.clear();
  s.trim();
  if (s.sent.empty() && !retired_sends_.empty())
    std::erase_if(retired_sends_, [&](const auto& r) { return r.get() == &s; });
}

void P2pChannel::probe(OutMessage& m, Time now, Outbox& out) {
  // Only the last fragment: its arrival makes the receiver answer with what it
  // has, so a timeout costs one packet when nothing was lost (the answer was
  // merely late, queued behind the receiver's own traffic) and a round trip
  // before the missing fragments are resent when something was.
  ++counters_.p2p_retransmissions;
  wire::Packet last(m.fragments.back());
  if (last.packets > 1) {
    // Segment mode: the probe is the last wire packet of the last segment,
    // as in packet mode, not the whole segment again.
    const std::uint32_t before = (last.packets - 1u) * last.packet_payload;
    last.header.sequence += before;
    last.header.count -= before;
    last.packets = 1;
  }
  const std::uint64_t bytes = last.wire_bytes();
  transmit_(std::move(last), out);
  arm(m, now, bytes);
}

void P2pChannel::resend_missing(OutMessage& m, Time now, Outbox& out) {
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < m.fragments.size(); ++i) {
    if (m.acked[i]) continue;
    ++counters_.p2p_retransmissions;
    bytes += m.fragments[i].wire_bytes();
    transmit_(wire::Packet(m.fragments[i]), out);
  }
  arm(m, now, bytes);
}

void P2pChannel::arm(OutMessage& m, Time now, std::uint64_t bytes) {
  m.deadline =
      now + local_drain(config_, bytes, 1) + rto_.timeout(m.retries, config_.max_backoff_shift);
  timers_.push(m.retries, {m.deadline, message_key(m.dst, m.tag, m.number), 0});
}

void P2pChannel::prune_timers() {
  while (!timers_.empty()) {
    const ChunkDeadline& t = timers_.top();
    const OutMessage* m =
        find_sent(static_cast<std::uint32_t>(t.op >> 32), static_cast<std::uint16_t>(t.op >> 16),
                  static_cast<std::uint16_t>(t.op));
    if (m && m->deadline == t.deadline) break;
    timers_.pop();
  }
}

void P2pChannel::on_timer(Time now, Outbox& out) {
  prune_timers();
  while (!timers_.empty() && timers_.top().deadline <= now) {
    const ChunkDeadline t = timers_.top();
    timers_.pop();
    p2p::SendStream* stream = nullptr;
    OutMessage* found =
        find_sent(static_cast<std::uint32_t>(t.op >> 32), static_cast<std::uint16_t>(t.op >> 16),
                  static_cast<std::uint16_t>(t.op), &stream);
    if (!found || found->deadline != t.deadline) continue;
    OutMessage& m = *found;
    if (m.retries >= config_.max_retransmits ||
        (config_.give_up_after != kNever && now - m.first_sent >= config_.give_up_after)) {
      ++counters_.timeouts;
      finish_send(m, make_error(StatusCode::timeout,
                                fmt::format("rank {}: a message of {} B to rank {} (tag {}) was "
                                            "not acknowledged after {} retransmissions in "
                                            "{:.1f} us",
                                            config_.rank, m.bytes, m.dst, m.tag, m.retries,
                                            to_micros(now - m.first_sent))));
      unacked_bytes_ -= m.wire_bytes;
      --unacked_messages_;
      drop_sent(*stream, m);
      continue;
    }
    ++m.retries;
    probe(m, now, out);
    prune_timers();
  }
}

Time P2pChannel::next_deadline() const {
  return timers_.empty() ? kNever : timers_.top().deadline;
}

// -------------------------------------------------------------- receive ----

Result<OpId> P2pChannel::post_recv(std::uint32_t src, std::uint16_t tag, MessageKind kind,
                                   void* data, std::size_t bytes) {
  if (src >= config_.rank_address.size())
    return make_error(StatusCode::invalid_argument,
                      fmt::format("rank {}: receive from rank {} of {}", config_.rank, src,
                                  config_.rank_address.size()));
  if (bytes > 0 && data == nullptr && !config_.timing_only)
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("rank {}: receive of {} B into a null buffer", config_.rank, bytes));
  Stream& s = streams_.get(src, tag);
  s.src = src;
  s.tag = tag;
  const std::uint16_t number = s.next_post++ & kNumberMask;
  s.next_post &= kNumberMask;
  const OpId id = ops_.next();
  Incoming& in = s.open[number];
  in.recv = RecvOp{id, static_cast<std::byte*>(data), bytes, kind};
  pending_recvs_.insert(pending_recvs_.end(), id);
  // Fragments that came first are written now. Nothing is acknowledged here:
  // a complete message was acknowledged when it completed, and the rest of a
  // failed one will be answered as a consumed message when it arrives.
  std::vector<wire::Packet> early = std::move(in.early);
  for (const wire::Packet& p : early)
    if (!deliver(s, number, in, p, nullptr)) return id;
  if (in.complete())
    finish_recv(
        s, number, in,
        in.total == bytes
            ? Status()
            : make_error(StatusCode::mismatch,
                         fmt::format("rank {} expected {} B from rank {} (tag {}), got {} B",
                                     config_.rank, bytes, src, tag, in.total)),
        nullptr);
  return id;
}

bool P2pChannel::deliver(Stream& s, std::uint16_t number, Incoming& in, const wire::Packet& p,
                         Outbox* out) {
  const wire::Header& h = p.header;
  const RecvOp& r = *in.recv;
  if (h.dtype != r.kind.dtype || h.op != r.kind.op) {
    finish_recv(
        s, number, in,
        make_error(StatusCode::mismatch,
                   fmt::format("rank {}: the message from rank {} (tag {}) carries {} {} "
                               "data, the receive expects {} {}: ranks called the "
                               "collective with different arguments",
                               config_.rank, h.child, h.tree, to_string(h.dtype), to_string(h.op),
                               to_string(r.kind.dtype), to_string(r.kind.op))),
        out);
    return false;
  }
  const std::size_t end = std::size_t{h.sequence} + h.count;
  if (end > r.bytes) {
    finish_recv(s, number, in,
                make_error(StatusCode::mismatch,
                           fmt::format("rank {} expected {} B from rank {} (tag {}), the message "
                                       "is larger",
                                       config_.rank, r.bytes, h.child, h.tree)),
                out);
    return false;
  }
  if (!config_.timing_only && h.count > 0) {
    if (!p.payload || p.payload->size() != h.count) {
      finish_recv(s, number, in,
                  make_error(StatusCode::malformed_packet,
                             fmt::format("rank {}: a fragment from rank {} (tag {}) came without "
                                         "its payload",
                                         config_.rank, h.child, h.tree)),
                  out);
      return false;
    }
    std::memcpy(r.data + h.sequence, p.payload->data(), h.count);
  }
  return true;
}

void P2pChannel::finish_recv(Stream& s, std::uint16_t number, Incoming& in, Status status,
                             Outbox* out) {
  const OpId id = in.recv->id;
  pending_recvs_.erase(id);
  ops_.finish(id, std::move(status));
  // Acknowledge the whole message even when the receive failed: its sender
  // must stop, and whatever still arrives is a duplicate of a consumed message.
  if (config_.reliable_p2p && out) {
    wire::Header of;
    of.child = static_cast<std::uint16_t>(s.src);
    of.tree = s.tag;
    of.slot = number;
    send_ack(of, nullptr, *out);
  }
  consume(s, number);
}

void P2pChannel::consume(Stream& s, std::uint16_t number) {
  s.open.erase(number);
  if (number != s.floor) {
    s.consumed.insert(number);
    return;
  }
  s.floor = (s.floor + 1) & kNumberMask;
  while (s.consumed.erase(s.floor)) s.floor = (s.floor + 1) & kNumberMask;
}

void P2pChannel::send_ack(const wire::Header& of, const Incoming* in, Outbox& out) {
  wire::Packet a;
  a.header.type = wire::PacketType::ack;
  a.header.job = config_.job;
  a.header.key_tag = config_.key_tag;
  a.header.tree = of.tree;
  a.header.slot = of.slot;
  a.header.child = static_cast<std::uint16_t>(config_.rank);
  if (in == nullptr || in->complete()) {
    a.header.flags = wire::kFlagLast;
  } else {
    std::vector<std::byte> bitmap(std::min((in->have.size() + 7) / 8, wire::kMaxPayloadBytes));
    for (std::size_t i = 0; i < in->have.size() && i / 8 < bitmap.size(); ++i)
      if (in->have[i]) bitmap[i / 8] |= static_cast<std::byte>(1u << (i % 8));
    a.header.count = static_cast<std::uint32_t>(bitmap.size());
    a.payload = wire::make_payload(bitmap);
  }
  a.src = config_.address;
  a.dst = config_.rank_address[of.child];
  ++counters_.acks_sent;
  transmit_(std::move(a), out);
}

void P2pChannel::on_fragment(const wire::Packet& p, Outbox& out) {
  const wire::Header& h = p.header;
  ++counters_.p2p_fragments_received;
  const std::size_t frag = fragment_bytes(config_);
  const bool last = h.has(wire::kFlagLast);
  // Segment mode: a probe is a segment's last wire packet (probe()).
  const bool probe = config_.p2p_segment_packets > 1 && h.sequence % frag != 0 && last;
  if (h.child >= config_.rank_address.size() || frag == 0 ||
      (h.sequence % frag != 0 && !(probe && h.sequence % config_.p2p_payload_bytes == 0)) ||
      h.count > frag) {
    ++counters_.dropped;  // not something a sender with our configuration makes
    return;
  }
  Stream* found = streams_.find(h.child, h.tree);
  if (found ? retired(*found) : retired_.count(h.tree) != 0) {
    ++counters_.dropped;  // a late repeat for a collective that is over
    if (config_.reliable_p2p && last) send_ack(h, nullptr, out);
    return;
  }
  if (!found) {
    found = &streams_.get(h.child, h.tree);
    found->src = h.child;
    found->tag = h.tree;
  }
  Stream& s = *found;
  if (s.is_consumed(h.slot)) {
    ++counters_.p2p_duplicates;
    if (config_.reliable_p2p && last) send_ack(h, nullptr, out);
    return;
  }
  Incoming& in = s.open[h.slot];
  const std::size_t index = h.sequence / frag;
  const std::size_t end = std::size_t{h.sequence} + h.count;
  if (index < in.have.size() && in.have[index]) {
    ++counters_.p2p_duplicates;
    if (config_.reliable_p2p && last) send_ack(h, &in, out);
    return;
  }
  if (probe) {
    ++counters_.dropped;  // its segment is not here yet (it always comes first)
    return;
  }
  if ((in.total != SIZE_MAX && end > in.total) || (last && in.received + h.count > end)) {
    ++counters_.dropped;  // disagrees with the fragments already here
    return;
  }
  // Bound the arrival bitmap before growing it: past the posted receive the
  // message is a mismatch (deliver says so), and without a receive only so
  // much is buffered.
  if (in.recv && end > in.recv->bytes) {
    deliver(s, h.slot, in, p, &out);
    return;
  }
  if (!in.recv && index >= kMaxEarlyFragments) {
    ++counters_.dropped;
    return;
  }
  if (in.have.size() <= index) in.have.resize(index + 1, 0);
  in.have[index] = 1;
  in.received += h.count;
  if (last) in.total = end;
  if (in.recv) {
    if (!deliver(s, h.slot, in, p, &out)) return;
  } else {
    ++counters_.unexpected_fragments;
    in.early.push_back(p);
  }
  if (in.complete()) {
    if (in.recv) {
      const std::size_t want = in.recv->bytes;
      finish_recv(s, h.slot, in,
                  in.total == want
                      ? Status()
                      : make_error(StatusCode::mismatch,
                                   fmt::format("rank {} expected {} B from rank {} (tag {}), got "
                                               "{} B",
                                               config_.rank, want, h.child, h.tree, in.total)),
                  &out);
    } else if (config_.reliable_p2p) {
      send_ack(h, &in, out);
    }
  } else if (config_.reliable_p2p && last) {
    send_ack(h, &in, out);
  }
}

// ------------------------------------------------------------ lifecycle ----

bool P2pChannel::retired(Stream& s) {
  if (s.retired_checked != retire_generation_) {
    s.retired = retired_.count(s.tag) != 0;
    s.retired_checked = retire_generation_;
  }
  return s.retired;
}

void P2pChannel::retire_tag(std::uint16_t tag) {
  if (retired_.insert(tag).second) {
    ++retire_generation_;
    retired_order_.push_back(tag);
    if (retired_order_.size() > kRetiredTags) {
      retired_.erase(retired_order_.front());
      retired_order_.pop_front();
    }
  }
  streams_.erase_tag(tag, [&](Stream& s) {
    for (auto& [number, in] : s.open)
      if (in.recv) {
        pending_recvs_.erase(in.recv->id);
        ops_.detach(in.recv->id);
      }
  });
  for_each_sent([&](OutMessage& m) {
    if (m.tag == tag && m.id != 0) ops_.detach(m.id);
  });
  // The tag's numbering starts again; its unacknowledged messages stay until
  // answered, superseded or given up.
  sends_.erase_tag(tag, [&](p2p::SendStream& s) {
    s.trim();
    if (!s.sent.empty()) retired_sends_.push_back(std::make_unique<p2p::SendStream>(std::move(s)));
  });
}

void P2pChannel::abort_all(const Status& why) {
  streams_.for_each([&](Stream& s) {
    for (auto& [number, in] : s.open)
      if (in.recv) {
        ops_.finish(in.recv->id, why);
        in.recv.reset();
      }
  });
  pending_recvs_.clear();
  for_each_sent([&](OutMessage& m) { finish_send(m, why); });
  sends_.for_each([](p2p::SendStream& s) {
    for (OutMessage& m : s.sent) m.live = false;
    s.sent.clear();
  });
  retired_sends_.clear();
  unacked_bytes_ = 0;
  unacked_messages_ = 0;
  timers_.clear();
}

void P2pChannel::finish_send(OutMessage& m, Status status) {
  if (m.id != 0) ops_.finish(m.id, std::move(status));
  m.id = 0;
}

bool P2pChannel::pending(OpId id) const {
  if (pending_recvs_.count(id)) return true;
  auto holds = [id](const p2p::SendStream& s) {
    return std::any_of(s.sent.begin(), s.sent.end(),
                       [id](const OutMessage& m) { return m.live && m.id == id; });
  };
  return sends_.any_of(holds) || std::any_of(retired_sends_.begin(), retired_sends_.end(),
                                             [&](const auto& s) { return holds(*s); });
}

}  // namespace inca::protocol
