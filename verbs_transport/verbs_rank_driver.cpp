#include "verbs_rank_driver.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "wire/roce_mapping.hpp"

namespace inca::verbs {
namespace {

constexpr std::size_t kBatch = 32;

std::uint64_t address_of(const std::byte* p) {
  return reinterpret_cast<std::uint64_t>(p);
}

}  // namespace

VerbsRankDriver::VerbsRankDriver(VerbsDriverConfig config, VerbsQueues& queues)
    : DatagramRankDriver(config.endpoint, config.idle_timeout),
      config_(std::move(config)),
      queues_(queues),
      cache_(queues),
      batch_(kBatch) {}

Result<std::unique_ptr<VerbsRankDriver>> VerbsRankDriver::create(VerbsDriverConfig config,
                                                                 VerbsQueues& queues) {
  const auto bad = [](const std::string& why) {
    return make_error(StatusCode::invalid_argument, "verbs driver: " + why);
  };
  if (config.ranks == 0 || config.endpoint.rank >= config.ranks)
    return bad(fmt::format("rank {} of {}", config.endpoint.rank, config.ranks));
  for (const RingGeometry& g : {config.switch_ring, config.peer_ring})
    if (g.entries == 0 || g.entry_bytes < wire::kHeaderBytes)
      return bad(fmt::format("a ring of {} entries of {} bytes holds no inca packet", g.entries,
                             g.entry_bytes));
  if (config.send_buffers == 0) return bad("no send buffers");
  std::unique_ptr<VerbsRankDriver> d(new VerbsRankDriver(std::move(config), queues));
  const VerbsDriverConfig& c = d->config_;
  d->rings_.assign(c.switch_ring.bytes() + std::size_t{c.ranks} * c.peer_ring.bytes(),
                   std::byte{0});
  d->send_entry_bytes_ = std::max(c.switch_ring.entry_bytes, c.peer_ring.entry_bytes);
  d->send_.assign(std::size_t{c.send_buffers} * d->send_entry_bytes_, std::byte{0});
  auto rings = d->cache_.acquire(d->rings_.data(), d->rings_.size(), true);
  if (!rings) return rings.status();
  d->rings_mr_ = *rings;
  auto send = d->cache_.acquire(d->send_.data(), d->send_.size(), false);
  if (!send) return send.status();
  d->send_mr_ = *send;
  for (std::uint32_t b = c.send_buffers; b-- > 0;) d->free_.push_back(b);
  d->next_entry_.assign(c.ranks, 0);
  return d;
}

VerbsRankDriver::~VerbsRankDriver() {
  if (rings_mr_.handle != 0) cache_.release(rings_mr_);
  if (send_mr_.handle != 0) cache_.release(send_mr_);
}

std::byte* VerbsRankDriver::ring_base(std::uint32_t channel) {
  if (channel == kSwitchChannel) return rings_.data();
  return rings_.data() + config_.switch_ring.bytes() +
         std::size_t{channel} * config_.peer_ring.bytes();
}

const RingGeometry& VerbsRankDriver::geometry(std::uint32_t channel) const {
  return channel == kSwitchChannel ? config_.switch_ring : config_.peer_ring;
}

RemoteRing VerbsRankDriver::switch_ring() const {
  return {address_of(rings_.data()), rings_mr_.rkey};
}

RemoteRing VerbsRankDriver::ring_for(std::uint32_t rank) const {
  return {address_of(rings_.data() + config_.switch_ring.bytes() +
                     std::size_t{rank} * config_.peer_ring.bytes()),
          rings_mr_.rkey};
}

Status VerbsRankDriver::start(std::vector<RemoteRing> peers) {
  if (peers.size() != config_.ranks)
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("verbs driver: {} peer rings for {} ranks", peers.size(), config_.ranks));
  peers_ = std::move(peers);
  for (std::uint32_t i = 0; i < config_.switch_ring.entries; ++i)
    INCA_RETURN_IF_ERROR(queues_.post_receive(kSwitchChannel));
  for (std::uint32_t r = 0; r < config_.ranks; ++r) {
    if (r == config_.endpoint.rank) continue;
    for (std::uint32_t i = 0; i < config_.peer_ring.entries; ++i)
      INCA_RETURN_IF_ERROR(queues_.post_receive(r));
  }
  started_ = true;
  return {};
}

std::optional<std::uint32_t> VerbsRankDriver::free_send_buffer() {
  if (free_.empty()) {
    // Send completions free buffers; what else completes is handled too.
    const std::size_t n = queues_.poll(batch_);
    handle(std::span(batch_).first(n), now());
  }
  if (free_.empty()) return std::nullopt;
  const std::uint32_t b = free_.back();
  free_.pop_back();
  return b;
}

void VerbsRankDriver::transmit(protocol::Outbox& out) {
  // handle() may add answers to outbox_ while this loop runs; they go on the
  // next transmit.
  protocol::Outbox packets;
  packets.swap(out);
  for (const wire::Packet& p : packets) {
    const bool to_peer = udp::addressed_to_peer(p);
    const std::uint32_t channel = to_peer ? p.dst : kSwitchChannel;
    if (!started_ || (to_peer && (p.dst >= config_.ranks || p.dst == config_.endpoint.rank)) ||
        (!to_peer && p.header.type != wire::PacketType::contribution)) {
      ++send_errors_;
      continue;
    }
    const RingGeometry& g = geometry(channel);
    const std::size_t bytes = wire::kHeaderBytes + p.payload_bytes();
    const auto buffer = bytes <= g.entry_bytes ? free_send_buffer() : std::nullopt;
    if (!buffer) {
      if (bytes <= g.entry_bytes) ++no_send_buffer_;
      ++send_errors_;  // the endpoint retransmits it
      continue;
    }
    std::byte* data = send_.data() + std::size_t{*buffer} * send_entry_bytes_;
    wire::encode(p.header, p.payload_span(), {data, bytes});
    std::uint64_t va = wire::kContributionVa;
    std::uint32_t rkey = wire::contribution_rkey(p.header);
    std::uint32_t immediate = wire::contribution_immediate(p.header);
    if (to_peer) {
      immediate = next_entry_[channel]++;
      va = peers_[channel].va + wire::ring_offset(immediate, g.entries, g.entry_bytes);
      rkey = peers_[channel].rkey;
    }
    if (!queues_.write_imm(channel, {data, bytes, send_mr_.lkey}, va, rkey, immediate, *buffer)
             .ok()) {
      free_.push_back(*buffer);
      ++send_errors_;
      continue;
    }
    ++writes_;
  }
}

bool VerbsRankDriver::handle(std::span<const Completion> completions, Time t) {
  bool received = false;
  for (const Completion& c : completions) {
    switch (c.kind) {
      case Completion::Kind::sent:
        if (c.wr_id < config_.send_buffers) free_.push_back(static_cast<std::uint32_t>(c.wr_id));
        break;
      case Completion::Kind::failed:
        ++failed_writes_;
        if (c.wr_id < config_.send_buffers) free_.push_back(static_cast<std::uint32_t>(c.wr_id));
        break;
      case Completion::Kind::received: {
        if (c.channel != kSwitchChannel && c.channel >= config_.ranks) break;
        const RingGeometry& g = geometry(c.channel);
        if (c.bytes <= g.entry_bytes) {
          const std::byte* entry =
              ring_base(c.channel) + wire::ring_offset(c.immediate, g.entries, g.entry_bytes);
          deliver({entry, c.bytes}, t);
          received = true;
        } else {
          ++undecodable_;
        }
        // The entry has been read (deliver copied what it kept): its
        // receive request goes back, so the sender may use the entry again.
        if (!queues_.post_receive(c.channel).ok()) ++failed_writes_;
        break;
      }
    }
  }
  return received;
}

bool VerbsRankDriver::drain() {
  bool any = false;
  while (true) {
    const std::size_t n = queues_.poll(batch_);
    if (n > 0) any = handle(std::span(batch_).first(n), now()) || any;
    // The answers to what arrived leave together (transmit may take in more).
    if (!outbox_.empty()) {
      transmit(outbox_);
      continue;
    }
    if (n == 0) break;
  }
  return any;
}

void VerbsRankDriver::wait_for_datagram(Time wait) {
  queues_.wait(wait);
}

}  // namespace inca::verbs
