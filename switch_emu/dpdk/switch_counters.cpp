#include "dpdk/switch_counters.hpp"

#include <fmt/format.h>

namespace inca::dpdk_switch {

std::string_view to_string(DropReason r) {
  switch (r) {
    case DropReason::runt_frame:
      return "runt_frame";
    case DropReason::oversize_frame:
      return "oversize_frame";
    case DropReason::bad_arp:
      return "bad_arp";
    case DropReason::bad_ipv4:
      return "bad_ipv4";
    case DropReason::bad_udp:
      return "bad_udp";
    case DropReason::ip_fragment:
      return "ip_fragment";
    case DropReason::bad_udp_length:
      return "bad_udp_length";
    case DropReason::bad_ip_checksum:
      return "bad_ip_checksum";
    case DropReason::own_source:
      return "own_source";
    case DropReason::same_port:
      return "same_port";
    case DropReason::unhandled_local:
      return "unhandled_local";
    case DropReason::no_neighbor:
      return "no_neighbor";
    case DropReason::bad_egress_port:
      return "bad_egress_port";
    case DropReason::encode_failed:
      return "encode_failed";
    case DropReason::no_mbuf:
      return "no_mbuf";
    case DropReason::tx_full:
      return "tx_full";
    case DropReason::rate_limit:
      return "rate_limit";
    case DropReason::before_start:
      return "before_start";
    case DropReason::roce_truncated:
      return "roce_truncated";
    case DropReason::roce_bad_icrc:
      return "roce_bad_icrc";
    case DropReason::roce_bad_version:
      return "roce_bad_version";
    case DropReason::roce_unknown_opcode:
      return "roce_unknown_opcode";
    case DropReason::roce_bad_pad:
      return "roce_bad_pad";
    case DropReason::roce_unknown_qpn:
      return "roce_unknown_qpn";
    case DropReason::roce_wrong_peer:
      return "roce_wrong_peer";
    case DropReason::roce_bad_pkey:
      return "roce_bad_pkey";
    case DropReason::roce_psn_gap:
      return "roce_psn_gap";
    case DropReason::roce_psn_stale:
      return "roce_psn_stale";
    case DropReason::roce_unsupported_opcode:
      return "roce_unsupported_opcode";
    case DropReason::roce_bad_reth:
      return "roce_bad_reth";
    case DropReason::roce_over_mtu:
      return "roce_over_mtu";
    case DropReason::roce_mapping_mismatch:
      return "roce_mapping_mismatch";
    case DropReason::roce_no_result_room:
      return "roce_no_result_room";
  }
  return "unknown_drop_reason";
}

void append_counters(std::uint16_t port, const PortCounters& c, std::vector<wire::Counter>& out) {
  const std::string prefix = fmt::format("port{}.", port);
  auto add = [&](std::string_view name, std::uint64_t v) {
    out.push_back({prefix + std::string(name), v});
  };
  add("link_up", c.link_up);
  add("rx_packets", c.rx_packets);
  add("rx_bytes", c.rx_bytes);
  add("tx_packets", c.tx_packets);
  add("tx_bytes", c.tx_bytes);
  add("inca_rx", c.inca_rx);
  add("inca_tx", c.inca_tx);
  add("inca_forwarded", c.inca_forwarded);
  add("l2_unicast", c.l2_unicast);
  add("l2_flooded", c.l2_flooded);
  add("arp_replies", c.arp_replies);
  add("rate_limit_waits", c.rate_limit_waits);
  add("roce_rx", c.roce_rx);
  add("roce_tx", c.roce_tx);
  add("roce_cnp", c.roce_cnp);
  for (std::size_t r = 0; r < kDropReasons; ++r)
    add(fmt::format("drop_{}", to_string(static_cast<DropReason>(r))), c.drops[r]);
  for (std::size_t e = 1; e < kDecodeErrors; ++e)
    add(fmt::format("decode_{}", wire::to_string(static_cast<wire::DecodeError>(e))),
        c.decode_drops[e]);
}

namespace {

struct EngineField {
  std::string_view name;
  engine::EngineBucket value;
};

// Every engine counter in report order; the one list of their names, for
// the report and for engine_counter_name().
constexpr EngineField kEngineFields[] = {
    {"packets_in", &engine::EngineCounters::packets_in},
    {"contributions", &engine::EngineCounters::contributions},
    {"identity_contributions", &engine::EngineCounters::identity_contributions},
    {"duplicates", &engine::EngineCounters::duplicates},
    {"duplicate_answers", &engine::EngineCounters::duplicate_answers},
    {"partial_reforwards", &engine::EngineCounters::partial_reforwards},
    {"partials_sent", &engine::EngineCounters::partials_sent},
    {"results", &engine::EngineCounters::results},
    {"results_sent", &engine::EngineCounters::results_sent},
    {"header_only_results", &engine::EngineCounters::header_only_results},
    {"slot_full", &engine::EngineCounters::slot_full},
    {"stale", &engine::EngineCounters::stale},
    {"results_in", &engine::EngineCounters::results_in},
    {"results_repeated", &engine::EngineCounters::results_repeated},
    {"refused", &engine::EngineCounters::refused},
    {"refused_caps", &engine::EngineCounters::refused_caps},
    {"errors_in", &engine::EngineCounters::errors_in},
    {"errors_sent", &engine::EngineCounters::errors_sent},
    {"drop_unknown_tree", &engine::EngineCounters::drop_unknown_tree},
    {"drop_bad_key", &engine::EngineCounters::drop_bad_key},
    {"drop_bad_child", &engine::EngineCounters::drop_bad_child},
    {"drop_bad_slot", &engine::EngineCounters::drop_bad_slot},
    {"drop_mismatch", &engine::EngineCounters::drop_mismatch},
    {"drop_oversize", &engine::EngineCounters::drop_oversize},
    {"drop_bad_type", &engine::EngineCounters::drop_bad_type},
    {"drop_malformed", &engine::EngineCounters::drop_malformed},
};

}  // namespace

void append_counters(const engine::EngineCounters& c, std::vector<wire::Counter>& out) {
  for (const EngineField& f : kEngineFields)
    out.push_back({"engine." + std::string(f.name), c.*f.value});
}

std::string_view engine_counter_name(engine::EngineBucket bucket) {
  for (const EngineField& f : kEngineFields)
    if (f.value == bucket) return f.name;
  return "";
}

std::string format_engine_drop(const EngineDrop& d) {
  const wire::Header& h = d.header;
  return fmt::format("port{} {}:{} {} job {} key {:#x} tree {} child {} seq {}: {}", d.port,
                     wire::format_ipv4(d.src_ip), d.src_port, wire::to_string(h.type), h.job,
                     h.key_tag, h.tree, h.child, h.sequence, d.reason);
}

std::string format_counters(const std::vector<wire::Counter>& counters) {
  std::string out;
  std::string group;
  for (const auto& c : counters) {
    const auto dot = c.name.find('.');
    const std::string g = c.name.substr(0, dot);
    if (g != group) {
      if (!group.empty()) out += '\n';
      group = g;
      out += g + ':';
    }
    if (c.value != 0) out += fmt::format(" {}={}", c.name.substr(dot + 1), c.value);
  }
  if (!out.empty()) out += '\n';
  return out;
}

}  // namespace inca::dpdk_switch
