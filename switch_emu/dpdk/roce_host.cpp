#include "dpdk/roce_host.hpp"

#include "wire/roce_mapping.hpp"

namespace inca::dpdk_switch {

std::string_view to_string(RoceResultError e) {
  switch (e) {
    case RoceResultError::none:
      return "none";
    case RoceResultError::not_roce:
      return "not_roce";
    case RoceResultError::bad_frame:
      return "bad_frame";
    case RoceResultError::wrong_qp:
      return "wrong_qp";
    case RoceResultError::wrong_opcode:
      return "wrong_opcode";
    case RoceResultError::psn:
      return "psn";
    case RoceResultError::bad_reth:
      return "bad_reth";
  }
  return "unknown_roce_result_error";
}

wire::QpConnect RoceHost::connect_request() const {
  wire::QpConnect q;
  q.job = config_.job;
  q.port = config_.port;
  q.mac = config_.self.mac;
  q.ipv4 = config_.self.ipv4;
  q.qpn = config_.qpn;
  q.psn = config_.psn;
  q.mtu = config_.mtu;
  q.ring_va = config_.ring_va;
  q.ring_rkey = config_.ring_rkey;
  q.ring_entries = config_.ring_entries;
  q.ring_entry_bytes = config_.ring_entry_bytes;
  return q;
}

void RoceHost::connected(const wire::QpInfo& sw) {
  switch_qpn_ = sw.qpn;
  expected_psn_ = sw.psn;
}

RoceHeaders RoceHost::contribution_headers(const wire::Header& h, std::size_t bytes) {
  RoceHeaders r;
  r.src = config_.self;
  r.dst = {config_.switch_port.mac, config_.switch_port.ipv4, kRoceUdpPort};
  r.tos = config_.tos;
  r.opcode = roce_opcode::kUcRdmaWriteOnlyImm;
  r.dest_qp = switch_qpn_;
  r.psn = next_psn_;
  next_psn_ = (next_psn_ + 1) & kPsnMask;
  r.reth =
      Reth{wire::kContributionVa, wire::contribution_rkey(h), static_cast<std::uint32_t>(bytes)};
  r.immediate = wire::contribution_immediate(h);
  return r;
}

std::size_t RoceHost::write_contribution(std::span<const std::byte> inca,
                                         std::span<std::byte> out) {
  wire::Header h;
  std::span<const std::byte> payload;
  if (wire::decode(inca, h, payload) != wire::DecodeError::none) return 0;
  return write_contribution(h, inca, out);
}

std::size_t RoceHost::write_contribution(const wire::Header& h, std::span<const std::byte> inca,
                                         std::span<std::byte> out) {
  const std::size_t tail_bytes = (4 - inca.size() % 4) % 4 + kIcrcBytes;
  if (out.size() < kRoceWriteImmHeadBytes + inca.size() + tail_bytes) return 0;
  std::byte* body = out.data() + kRoceWriteImmHeadBytes;
  if (inca.data() != body) std::copy(inca.begin(), inca.end(), body);
  const RoceHeaders r = contribution_headers(h, inca.size());
  const auto head = out.first(kRoceWriteImmHeadBytes);
  const auto tail = out.subspan(kRoceWriteImmHeadBytes + inca.size(), tail_bytes);
  const RoceFrameSizes sizes =
      write_roce_frame(head, tail, r, std::span<const std::byte>(body, inca.size()));
  if (sizes.head != kRoceWriteImmHeadBytes) return 0;
  return sizes.total(inca.size());
}

std::vector<std::byte> RoceHost::contribution_frame(std::span<const std::byte> inca) {
  std::vector<std::byte> frame(kRoceWriteImmHeadBytes + inca.size() + kRoceMaxTailBytes);
  frame.resize(write_contribution(inca, frame));
  return frame;
}

RoceResultError RoceHost::take_result(std::span<const std::byte> frame,
                                      std::span<const std::byte>& inca) {
  ParsedFrame f;
  if (parse_frame(frame, f) != FrameError::none || f.kind != FrameKind::udp ||
      f.dst_port != kRoceUdpPort || f.dst_ip != config_.self.ipv4 ||
      check_inca_datagram(f, true) != DatagramError::none)
    return RoceResultError::not_roce;
  RocePacket& p = scratch_;
  if (parse_roce(f, p) != RoceError::none) return RoceResultError::bad_frame;
  if (p.dest_qp != config_.qpn) return RoceResultError::wrong_qp;
  if (p.opcode != roce_opcode::kUcRdmaWriteOnlyImm) return RoceResultError::wrong_opcode;
  const bool in_order = p.psn == expected_psn_;
  expected_psn_ = (p.psn + 1) & kPsnMask;  // as a UC responder, resynchronise on it
  if (!in_order) return RoceResultError::psn;
  const std::uint64_t entry =
      config_.ring_va +
      wire::ring_offset(*p.immediate, config_.ring_entries, config_.ring_entry_bytes);
  if (p.reth->va != entry || p.reth->rkey != config_.ring_rkey ||
      p.reth->dma_length != p.payload.size() || p.payload.size() > config_.ring_entry_bytes)
    return RoceResultError::bad_reth;
  inca = p.payload;
  ++results_;
  return RoceResultError::none;
}

}  // namespace inca::dpdk_switch
