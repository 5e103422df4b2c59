#include "runtime/recovery_options.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace inca::runtime {

RecoveryOptions resolve(const RecoveryOptions& options, FabricKind fabric) {
  RecoveryOptions r = options;
  const bool live = fabric == FabricKind::live;
  if (r.min_timeout == 0) r.min_timeout = live ? kPicosPerMilli : 5 * kPicosPerMicro;
  if (r.failure_timeout == 0) r.failure_timeout = live ? 5 * kPicosPerSecond : 100 * kPicosPerMilli;
  if (r.agreement_timeout == 0) r.agreement_timeout = 2 * r.failure_timeout;
  return r;
}

Status validate(const RecoveryOptions& o, Time retransmit_timeout) {
  auto bad = [](std::string what) {
    return make_error(StatusCode::invalid_argument, "FabricOptions." + std::move(what));
  };
  if (retransmit_timeout <= 0)
    return bad(fmt::format("retransmit_timeout {} ps must be positive", retransmit_timeout));
  if (o.min_timeout < 0) return bad("recovery.min_timeout must not be negative");
  if (o.failure_timeout < 0) return bad("recovery.failure_timeout must not be negative");
  if (o.agreement_timeout < 0) return bad("recovery.agreement_timeout must not be negative");
  if (o.max_backoff_shift > 30)
    return bad(fmt::format("recovery.max_backoff_shift {} is above 30", o.max_backoff_shift));
  if (o.max_retransmits == 0) return bad("recovery.max_retransmits must be at least 1");
  if (!parse_switch_failure_policy(to_string(o.on_switch_failure)))
    return bad(fmt::format("recovery.on_switch_failure {} is no policy (reform, fallback, error)",
                           static_cast<int>(o.on_switch_failure)));
  return {};
}

Time longest_round_trip(const topology::Topology& t) {
  // Up to the highest tier and down again: 2 links on a star, 4 on a
  // leaf-spine. Each costs the slowest link's latency and full-packet
  // serialisation plus the slowest switch's forwarding; the hosts add their
  // software overheads at both ends.
  std::uint32_t top = 1;
  Time hop = 0, forwarding = 0, overheads = 0;
  for (const topology::Node& n : t.nodes()) {
    if (n.kind == topology::NodeKind::switch_node) {
      top = std::max(top, n.tier);
      forwarding = std::max(forwarding, n.switch_spec.forwarding_latency);
    } else {
      overheads = std::max(overheads, n.host_timing.send_overhead + n.host_timing.recv_overhead);
    }
    for (const topology::Port& p : n.ports)
      hop = std::max(hop, p.link.latency +
                              protocol::drain_time(p.link.mtu + wire::kFramingBytes, p.link.gbps));
  }
  const Time links = 2 * static_cast<Time>(top);
  return 2 * (links * (hop + forwarding) + overheads);
}

void apply(const RecoveryOptions& r, Time round_trip, protocol::EndpointConfig& endpoint) {
  endpoint.initial_retransmit_timeout = std::max(r.min_timeout, 4 * round_trip);
  endpoint.reliable_p2p = true;
  endpoint.eager_send_bytes = r.eager_bytes;
  endpoint.adaptive_timeout = r.adaptive_timeout;
  endpoint.min_retransmit_timeout = r.min_timeout;
  endpoint.max_backoff_shift = r.max_backoff_shift;
  endpoint.max_retransmits = r.max_retransmits;
  endpoint.give_up_after = r.failure_timeout;
}

}  // namespace inca::runtime
