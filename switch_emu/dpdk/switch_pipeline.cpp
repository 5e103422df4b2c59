#include "dpdk/switch_pipeline.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/format.h>

namespace inca::dpdk_switch {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// Consecutive emits of one engine call are often the same packet (a result
// multicast to every child): encode it once and reuse the bytes.
bool same_packet(const wire::Packet& a, const wire::Packet& b) {
  const wire::Header& x = a.header;
  const wire::Header& y = b.header;
  return a.payload == b.payload && x.type == y.type && x.flags == y.flags && x.dtype == y.dtype &&
         x.op == y.op && x.attempt_tag == y.attempt_tag && x.child == y.child && x.job == y.job &&
         x.key_tag == y.key_tag && x.tree == y.tree && x.slot == y.slot && x.shadow == y.shadow &&
         x.sequence == y.sequence && x.count == y.count;
}

std::uint64_t accepted_contributions(const engine::EngineCounters& c) {
  // These count only contributions that passed the tree, key, slot and
  // child-port checks.
  return c.contributions + c.duplicates + c.refused;
}

// Inca datagrams and RoCEv2 packets alike are one whole, unfragmented
// datagram whose UDP length is exactly the IPv4 payload.
std::optional<DropReason> datagram_drop(const ParsedFrame& f, bool verify_ip_checksum) {
  switch (check_inca_datagram(f, verify_ip_checksum)) {
    case DatagramError::none:
      return std::nullopt;
    case DatagramError::ip_fragment:
      return DropReason::ip_fragment;
    case DatagramError::bad_udp_length:
      return DropReason::bad_udp_length;
    case DatagramError::bad_ip_checksum:
      return DropReason::bad_ip_checksum;
  }
  return DropReason::bad_udp_length;
}

}  // namespace

SwitchPipeline::SwitchPipeline(PipelineConfig config, std::vector<PortIdentity> ports)
    : config_(std::move(config)),
      ports_(std::move(ports)),
      counters_(ports_.size()),
      engine_(config_.engine),
      l2_(config_.mac_age_ns),
      neighbors_(static_cast<std::uint16_t>(ports_.size())),
      roce_(config_.roce, static_cast<std::uint16_t>(ports_.size())) {}

FrameVerdict SwitchPipeline::drop(std::uint16_t port, DropReason reason) {
  counters_[port].drop(reason);
  return {};
}

FrameVerdict SwitchPipeline::on_frame(std::uint16_t in_port, std::span<const std::byte> frame,
                                      std::uint64_t now_ns) {
  forward_.clear();
  transmit_.clear();
  if (in_port >= ports_.size()) return {};
  PortCounters& c = counters_[in_port];
  ++c.rx_packets;
  c.rx_bytes += frame.size();

  ParsedFrame f;
  switch (parse_frame(frame, f)) {
    case FrameError::none:
      break;
    case FrameError::runt:
      return drop(in_port, DropReason::runt_frame);
    case FrameError::bad_arp:
      return drop(in_port, DropReason::bad_arp);
    case FrameError::bad_ipv4:
      return drop(in_port, DropReason::bad_ipv4);
    case FrameError::bad_udp:
      return drop(in_port, DropReason::bad_udp);
  }
  for (const PortIdentity& p : ports_)
    if (p.mac == f.src_mac) return drop(in_port, DropReason::own_source);
  if (!l2_.learn(f.src_mac, in_port, now_ns)) ++l2_table_full_;

  if (is_arp_request_for(f, config_.ipv4)) return answer_arp(in_port, f);
  if (f.kind == FrameKind::udp && f.dst_port == config_.udp_port)
    return on_inca(in_port, f, now_ns);
  // RoCEv2 to the switch's own address is for its queue pairs; RoCEv2
  // between hosts (their RC queue pairs) is switched like any traffic.
  if (f.kind == FrameKind::udp && f.dst_port == kRoceUdpPort && f.dst_ip == config_.ipv4 &&
      config_.roce.enabled)
    return on_roce(in_port, f);
  for (const PortIdentity& p : ports_)
    if (p.mac == f.dst_mac) return drop(in_port, DropReason::unhandled_local);
  return forward_l2(in_port, f, now_ns);
}

FrameVerdict SwitchPipeline::forward_l2(std::uint16_t in_port, const ParsedFrame& f,
                                        std::uint64_t now_ns) {
  PortCounters& c = counters_[in_port];
  if (!is_multicast(f.dst_mac)) {
    if (auto port = l2_.lookup(f.dst_mac, now_ns)) {
      if (*port == in_port) return drop(in_port, DropReason::same_port);
      forward_.push_back(*port);
      ++c.l2_unicast;
      return {forward_, {}};
    }
  }
  for (std::uint16_t p = 0; p < ports_.size(); ++p)
    if (p != in_port) forward_.push_back(p);
  ++c.l2_flooded;
  return {forward_, {}};
}

FrameVerdict SwitchPipeline::answer_arp(std::uint16_t in_port, const ParsedFrame& f) {
  if (heads_.empty()) heads_.resize(1);
  const std::size_t n = write_arp_reply(heads_[0], f, ports_[in_port].mac, config_.ipv4);
  transmit_.push_back({in_port, std::span<const std::byte>(heads_[0].data(), n), {}, {}});
  ++counters_[in_port].arp_replies;
  return {{}, transmit_};
}

FrameVerdict SwitchPipeline::on_inca(std::uint16_t in_port, const ParsedFrame& f,
                                     std::uint64_t now_ns) {
  PortCounters& c = counters_[in_port];
  if (auto reason = datagram_drop(f, config_.verify_ip_checksum)) return drop(in_port, *reason);
  wire::Header header;
  std::span<const std::byte> payload;
  const wire::DecodeError error = wire::decode(f.udp_payload, header, payload);
  if (error != wire::DecodeError::none) {
    ++c.decode_drops[static_cast<std::size_t>(error)];
    return {};
  }
  const wire::PacketType type = header.type;
  // The engine takes what fabric::switch_packet gives it in every fabric:
  // contributions, results and the errors that refuse a chunk. Point-to-point
  // data, acks and control packets are addressed to a host.
  if (type != wire::PacketType::contribution && type != wire::PacketType::result &&
      type != wire::PacketType::error) {
    ++c.inca_forwarded;
    return forward_l2(in_port, f, now_ns);
  }
  return aggregate(in_port, f, header, payload, [&] {
    neighbors_.learn(header.job, header.tree, in_port,
                     UdpEndpoint{f.src_mac, f.src_ip, f.src_port});
    roce_.forget(header.job, header.tree, header.child);
  });
}

FrameVerdict SwitchPipeline::on_roce(std::uint16_t in_port, const ParsedFrame& f) {
  PortCounters& c = counters_[in_port];
  if (auto reason = datagram_drop(f, config_.verify_ip_checksum)) return drop(in_port, *reason);
  const RoceIntake in = roce_.take(in_port, f);
  if (in.drop) return drop(in_port, *in.drop);
  if (in.cnp) {
    ++c.roce_cnp;
    return {};
  }
  if (in.decode != wire::DecodeError::none) {
    ++c.decode_drops[static_cast<std::size_t>(in.decode)];
    return {};
  }
  ++c.roce_rx;
  return aggregate(in_port, f, in.header, in.payload,
                   [&] { roce_.learn(in.header.job, in.header.tree, in_port, in.qpn); });
}

template <class Learn>
FrameVerdict SwitchPipeline::aggregate(std::uint16_t in_port, const ParsedFrame& f,
                                       const wire::Header& header,
                                       std::span<const std::byte> payload, Learn&& learn) {
  wire::Packet packet;
  packet.header = header;
  packet.payload = wire::make_payload(payload);
  const std::uint64_t accepted_before = accepted_contributions(engine_.counters());
  emits_.clear();
  engine_.on_packet(in_port, packet, emits_);
  ++counters_[in_port].inca_rx;
  if (engine_.dropped_as() != nullptr) remember_drop(in_port, f, header);
  // Learn a child's address only from what the engine accepted, so a forged
  // packet (wrong key, tree or port) cannot redirect another child's results.
  if (header.type == wire::PacketType::contribution &&
      accepted_contributions(engine_.counters()) != accepted_before)
    learn();
  address_emits(in_port);
  return {{}, transmit_};
}

void SwitchPipeline::remember_drop(std::uint16_t in_port, const ParsedFrame& f,
                                   const wire::Header& header) {
  const EngineDrop d{engine_counter_name(engine_.dropped_as()), in_port, f.src_ip, f.src_port,
                     header};
  if (recent_drops_.size() < kRecentDrops) {
    recent_drops_.push_back(d);
  } else {
    recent_drops_[next_drop_] = d;
  }
  next_drop_ = (next_drop_ + 1) % kRecentDrops;
}

std::vector<EngineDrop> SwitchPipeline::recent_engine_drops() const {
  std::vector<EngineDrop> out;
  const std::size_t oldest = recent_drops_.size() < kRecentDrops ? 0 : next_drop_;
  for (std::size_t i = 0; i < recent_drops_.size(); ++i)
    out.push_back(recent_drops_[(oldest + i) % recent_drops_.size()]);
  return out;
}

void SwitchPipeline::address_emits(std::uint16_t in_port) {
  if (heads_.size() < emits_.size()) heads_.resize(emits_.size());
  if (tails_.size() < emits_.size()) tails_.resize(emits_.size());
  std::size_t bodies_used = 0;
  const wire::Packet* encoded = nullptr;
  std::span<const std::byte> body;
  for (std::size_t i = 0; i < emits_.size(); ++i) {
    const engine::Emit& e = emits_[i];
    if (e.port >= ports_.size()) {
      counters_[in_port].drop(DropReason::bad_egress_port);
      continue;
    }
    if (encoded == nullptr || !same_packet(*encoded, e.packet)) {
      if (bodies_.size() <= bodies_used) bodies_.emplace_back();
      std::vector<std::byte>& bytes = bodies_[bodies_used++];
      bytes.resize(wire::kHeaderBytes + e.packet.payload_bytes());
      if (wire::encode(e.packet.header, e.packet.payload_span(), bytes) == 0) {
        counters_[e.port].drop(DropReason::encode_failed);
        encoded = nullptr;
        continue;
      }
      encoded = &e.packet;
      body = bytes;
    }
    address_emit(i, body);
  }
}

void SwitchPipeline::address_emit(std::size_t i, std::span<const std::byte> body) {
  const engine::Emit& e = emits_[i];
  const wire::Header& h = e.packet.header;
  PortCounters& out = counters_[e.port];
  const UdpEndpoint self{ports_[e.port].mac, config_.ipv4, config_.udp_port};
  if (RoceQp* qp = roce_.route(h.job, h.tree, e.child)) {
    const RoceTx tx = roce_.write_result(*qp, self, body, heads_[i], tails_[i]);
    if (tx.drop) {
      out.drop(*tx.drop);
      return;
    }
    transmit_.push_back({e.port, std::span<const std::byte>(heads_[i].data(), tx.head), body,
                         std::span<const std::byte>(tails_[i].data(), tx.tail)});
    ++out.roce_tx;
    ++out.inca_tx;
    return;
  }
  const UdpEndpoint* dst = neighbors_.find(h.job, h.tree, e.port);
  if (dst == nullptr) {
    out.drop(DropReason::no_neighbor);
    return;
  }
  const std::size_t n = write_udp_head(heads_[i], self, *dst, body.size());
  transmit_.push_back({e.port, std::span<const std::byte>(heads_[i].data(), n), body, {}});
  ++out.inca_tx;
}

Status SwitchPipeline::check_ports(const wire::TreeInstall& t) const {
  const auto missing = [&](std::uint16_t port) {
    return make_error(StatusCode::invalid_argument,
                      fmt::format("tree {} of job {} names port {}; switch {} has ports 0..{}",
                                  t.tree, t.job, port, config_.name, ports_.size() - 1));
  };
  if (t.parent_port != wire::kNoPort && t.parent_port >= ports_.size())
    return missing(t.parent_port);
  for (std::uint16_t p : t.child_ports)
    if (p >= ports_.size()) return missing(p);
  return {};
}

wire::ControlReply SwitchPipeline::on_control(const wire::ControlRequest& request) {
  ++control_requests_;
  wire::ControlReply reply;
  reply.id = request.id;
  reply.kind = request.kind();
  std::visit(Overloaded{
                 [&](const wire::PingRequest&) { reply.body = info(); },
                 [&](const wire::TreeInstall& t) {
                   reply.status = check_ports(t);
                   if (reply.status.ok()) reply.status = engine_.install(t);
                   if (reply.status.ok()) ++trees_;
                 },
                 [&](const wire::TreeRemove& t) {
                   reply.status = engine_.remove(t);
                   if (!reply.status.ok()) return;
                   neighbors_.forget_tree(t.job, t.tree);
                   roce_.forget_tree(t.job, t.tree);
                   --trees_;
                 },
                 [&](const wire::NeighborAddress& n) { reply.status = neighbors_.configure(n); },
                 [&](const wire::CountersRequest&) { reply.body = counters(); },
                 [&](const wire::QpConnect& q) {
                   auto qp = roce_.connect(q);
                   if (qp.ok())
                     reply.body = *qp;
                   else
                     reply.status = qp.status();
                 },
                 [&](const wire::QpDisconnect& q) { reply.status = roce_.disconnect(q.qpn); },
             },
             request.body);
  if (!reply.status.ok()) ++control_errors_;
  return reply;
}

std::vector<wire::Counter> SwitchPipeline::counters() const {
  std::vector<wire::Counter> out;
  for (std::uint16_t p = 0; p < ports_.size(); ++p) append_counters(p, counters_[p], out);
  append_counters(engine_.counters(), out);
  roce_.append_counters(out);
  out.push_back({"switch.trees", trees_});
  out.push_back({"switch.l2_entries", l2_.size()});
  out.push_back({"switch.l2_table_full", l2_table_full_});
  out.push_back({"switch.learned_neighbors", neighbors_.learned()});
  out.push_back({"control.requests", control_requests_});
  out.push_back({"control.errors", control_errors_});
  return out;
}

wire::SwitchInfo SwitchPipeline::info() const {
  wire::SwitchInfo info;
  info.name = config_.name;
  info.ipv4 = config_.ipv4;
  info.udp_port = config_.udp_port;
  info.slots = engine_.config().slots;
  info.slot_payload_bytes = engine_.config().slot_payload_bytes;
  info.free_slots = engine_.free_slots();
  info.trees = static_cast<std::uint32_t>(trees_);
  for (const PortIdentity& p : ports_) info.ports.push_back({p.name, p.mac});
  return info;
}

}  // namespace inca::dpdk_switch
