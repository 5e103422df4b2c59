#include "dpdk/roce_endpoint.hpp"

#include <fmt/format.h>

#include "wire/roce_mapping.hpp"

namespace inca::dpdk_switch {
namespace {

// RoCEv2 senders spread flows over ECMP paths with the UDP source port; the
// switch derives it from its queue pair, in the range rxe and ConnectX use.
constexpr std::uint16_t kUdpSourceBase = 0xc000;
constexpr std::uint16_t kUdpSourceMask = 0x3fff;
// The default partition: full (0x8000) or limited membership.
constexpr std::uint16_t kPkeyMask = 0x7fff;

std::optional<DropReason> to_drop(RoceError e) {
  switch (e) {
    case RoceError::none:
      return std::nullopt;
    case RoceError::truncated:
      return DropReason::roce_truncated;
    case RoceError::bad_icrc:
      return DropReason::roce_bad_icrc;
    case RoceError::bad_version:
      return DropReason::roce_bad_version;
    case RoceError::unknown_opcode:
      return DropReason::roce_unknown_opcode;
    case RoceError::bad_pad:
      return DropReason::roce_bad_pad;
  }
  return DropReason::roce_truncated;
}

Status invalid(const std::string& what) {
  return make_error(StatusCode::invalid_argument, "connect_qp: " + what);
}

}  // namespace

RoceEndpoint::RoceEndpoint(RoceConfig config, std::uint16_t ports)
    : config_(config),
      ports_(ports),
      qps_(config.max_qps),
      psn_random_(static_cast<std::mt19937::result_type>(config.psn_seed)) {}

RoceQp* RoceEndpoint::lookup(std::uint32_t qpn) {
  if (qpn < config_.first_qpn || qpn - config_.first_qpn >= qps_.size()) return nullptr;
  auto& slot = qps_[qpn - config_.first_qpn];
  return slot ? &*slot : nullptr;
}

const RoceQp* RoceEndpoint::find(std::uint32_t qpn) const {
  return const_cast<RoceEndpoint*>(this)->lookup(qpn);
}

Result<wire::QpInfo> RoceEndpoint::connect(const wire::QpConnect& q) {
  if (!config_.enabled) return make_error(StatusCode::not_supported, "connect_qp: RoCEv2 is off");
  if (q.qpn > kPsnMask || q.qpn < 2)
    return invalid(fmt::format("host QPN {:#x} is not a 24-bit QPN above QP1", q.qpn));
  if (q.psn > kPsnMask) return invalid(fmt::format("PSN {:#x} exceeds 24 bits", q.psn));
  if (!wire::valid_roce_mtu(q.mtu))
    return invalid(fmt::format("MTU {} is not 256, 512, 1024, 2048 or 4096", q.mtu));
  if (q.port != wire::kNoPort && q.port >= ports_)
    return invalid(fmt::format("port {} does not exist (this switch has {})", q.port, ports_));
  if (q.ipv4 == 0 || is_multicast(q.mac))
    return invalid("the host needs a unicast MAC and an IPv4 address");
  if (q.ring_entries == 0 || q.ring_entry_bytes < wire::kHeaderBytes)
    return invalid(fmt::format("a ring of {} entries of {} bytes holds no inca packet",
                               q.ring_entries, q.ring_entry_bytes));
  const unsigned __int128 ring_end = static_cast<unsigned __int128>(q.ring_va) +
                                     std::uint64_t{q.ring_entries} * q.ring_entry_bytes;
  if (ring_end > (static_cast<unsigned __int128>(1) << 64))
    return invalid("the ring runs past the end of the 64-bit address space");
  for (const auto& other : qps_)
    if (other && other->peer.ipv4 == q.ipv4 && other->peer.qpn == q.qpn)
      return invalid(fmt::format("host {} QPN {:#x} is already connected to switch QPN {:#x}",
                                 wire::format_ipv4(q.ipv4), q.qpn, other->qpn));
  if (connected_ == qps_.size())
    return make_error(StatusCode::no_resource,
                      fmt::format("connect_qp: all {} queue pairs are in use", qps_.size()));
  while (qps_[next_free_]) next_free_ = (next_free_ + 1) % qps_.size();
  RoceQp qp;
  qp.peer = q;
  qp.qpn = config_.first_qpn + static_cast<std::uint32_t>(next_free_);
  qp.port = q.port;
  qp.expected_psn = q.psn;
  qp.next_psn = psn_random_() & kPsnMask;
  qps_[next_free_] = qp;
  ++connected_;
  return wire::QpInfo{qp.qpn, qp.next_psn};
}

Status RoceEndpoint::disconnect(std::uint32_t qpn) {
  if (lookup(qpn) == nullptr)
    return make_error(StatusCode::not_supported,
                      fmt::format("disconnect_qp: the switch has no queue pair {:#x}", qpn));
  qps_[qpn - config_.first_qpn].reset();
  --connected_;
  std::erase_if(routes_, [&](const auto& r) { return r.second == qpn; });
  return {};
}

std::optional<DropReason> RoceEndpoint::check_transport(std::uint16_t in_port, const ParsedFrame& f,
                                                        const RocePacket& p, RoceQp& qp) {
  if (f.src_ip != qp.peer.ipv4 || f.src_mac != qp.peer.mac ||
      (qp.port != wire::kNoPort && qp.port != in_port))
    return DropReason::roce_wrong_peer;
  if ((p.pkey & kPkeyMask) != (kDefaultPkey & kPkeyMask)) return DropReason::roce_bad_pkey;
  // Every packet of the host's queue pair takes a PSN, whatever it carries.
  const std::int32_t d = psn_distance(p.psn, qp.expected_psn);
  if (d < 0) {
    ++qp.psn_stale;
    return DropReason::roce_psn_stale;
  }
  qp.expected_psn = (p.psn + 1) & kPsnMask;
  if (d > 0) {
    // Packets were lost or reordered: this one goes too, and the queue pair
    // resynchronises on it, so the next one in order is taken again.
    ++qp.psn_gaps;
    return DropReason::roce_psn_gap;
  }
  if (p.opcode != roce_opcode::kUcRdmaWriteOnlyImm) return DropReason::roce_unsupported_opcode;
  if (p.reth->va != wire::kContributionVa || p.reth->dma_length != p.payload.size())
    return DropReason::roce_bad_reth;
  if (p.payload.size() > qp.peer.mtu) return DropReason::roce_over_mtu;
  return std::nullopt;
}

RoceIntake RoceEndpoint::take(std::uint16_t in_port, const ParsedFrame& f) {
  RoceIntake in;
  RocePacket& p = scratch_;
  if ((in.drop = to_drop(parse_roce(f, p)))) return in;
  if (p.opcode == roce_opcode::kCnp) {
    in.cnp = true;
    return in;
  }
  RoceQp* qp = lookup(p.dest_qp);
  if (qp == nullptr) {
    in.drop = DropReason::roce_unknown_qpn;
    return in;
  }
  if ((in.drop = check_transport(in_port, f, p, *qp))) return in;
  in.qpn = qp->qpn;
  in.decode = wire::decode(p.payload, in.header, in.payload);
  if (in.decode != wire::DecodeError::none) return in;
  const wire::SlotAddress slot = wire::slot_of_rkey(p.reth->rkey);
  const wire::Header& h = in.header;
  if (h.type != wire::PacketType::contribution || h.job != qp->peer.job || h.tree != slot.tree ||
      h.shadow != slot.shadow || h.slot != slot.slot || h.sequence != *p.immediate) {
    in.drop = DropReason::roce_mapping_mismatch;
    return in;
  }
  ++qp->rx_packets;
  if (qp->port == wire::kNoPort) qp->port = in_port;
  return in;
}

void RoceEndpoint::learn(std::uint32_t job, std::uint16_t tree, std::uint16_t child,
                         std::uint32_t qpn) {
  routes_.insert_or_assign(key(job, tree, child), qpn);
}

void RoceEndpoint::forget(std::uint32_t job, std::uint16_t tree, std::uint16_t child) {
  if (!routes_.empty()) routes_.erase(key(job, tree, child));
}

void RoceEndpoint::forget_tree(std::uint32_t job, std::uint16_t tree) {
  const std::uint64_t prefix = key(job, tree, 0);
  std::erase_if(routes_, [&](const auto& r) { return (r.first & ~0xffffull) == prefix; });
}

RoceQp* RoceEndpoint::route(std::uint32_t job, std::uint16_t tree, std::uint16_t child) {
  if (routes_.empty() || child == engine::kNoChild) return nullptr;
  const auto it = routes_.find(key(job, tree, child));
  return it == routes_.end() ? nullptr : lookup(it->second);
}

RoceTx RoceEndpoint::write_result(RoceQp& qp, const UdpEndpoint& self,
                                  std::span<const std::byte> body, std::span<std::byte> head,
                                  std::span<std::byte> tail) {
  if (body.size() > qp.peer.ring_entry_bytes || body.size() > qp.peer.mtu)
    return {.drop = DropReason::roce_no_result_room};
  RoceHeaders h;
  h.src = {self.mac, self.ipv4,
           static_cast<std::uint16_t>(kUdpSourceBase | (qp.qpn & kUdpSourceMask))};
  h.dst = {qp.peer.mac, qp.peer.ipv4, kRoceUdpPort};
  h.tos = config_.tos;
  h.opcode = roce_opcode::kUcRdmaWriteOnlyImm;
  h.dest_qp = qp.peer.qpn;
  h.psn = qp.next_psn;
  h.reth = Reth{qp.peer.ring_va + wire::ring_offset(qp.ring_index, qp.peer.ring_entries,
                                                    qp.peer.ring_entry_bytes),
                qp.peer.ring_rkey, static_cast<std::uint32_t>(body.size())};
  h.immediate = qp.ring_index;
  const RoceFrameSizes sizes = write_roce_frame(head, tail, h, body);
  if (sizes.head == 0) return {.drop = DropReason::encode_failed};
  qp.next_psn = (qp.next_psn + 1) & kPsnMask;
  ++qp.ring_index;
  ++qp.tx_packets;
  return {sizes.head, sizes.tail, std::nullopt};
}

void RoceEndpoint::append_counters(std::vector<wire::Counter>& out) const {
  out.push_back({"roce.connected_qps", connected_});
  out.push_back({"roce.routes", routes_.size()});
  std::size_t listed = 0;
  for (const auto& qp : qps_) {
    if (!qp) continue;
    if (++listed > kCountedQps) break;
    const std::string prefix = fmt::format("qp{}.", qp->qpn);
    out.push_back({prefix + "host_qpn", qp->peer.qpn});
    out.push_back({prefix + "port", qp->port});
    out.push_back({prefix + "rx_packets", qp->rx_packets});
    out.push_back({prefix + "tx_packets", qp->tx_packets});
    out.push_back({prefix + "psn_gaps", qp->psn_gaps});
    out.push_back({prefix + "psn_stale", qp->psn_stale});
    out.push_back({prefix + "expected_psn", qp->expected_psn});
    out.push_back({prefix + "next_psn", qp->next_psn});
  }
}

}  // namespace inca::dpdk_switch
