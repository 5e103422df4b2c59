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

void apply(const RecoveryOptions& r, const FabricOptions& o, protocol::EndpointConfig& endpoint) {
  // The longest host-to-host path crosses 2 links on a star and 4 on a
  // leaf-spine; each costs its latency and the serialisation of a full packet.
  const Time links = o.topology == TopologyKind::star ? 2 : 4;
  const Time hop = o.latency + protocol::drain_time(o.mtu + wire::kFramingBytes, o.link_gbps);
  endpoint.initial_retransmit_timeout = std::max(r.min_timeout, 4 * 2 * links * hop);
  endpoint.reliable_p2p = true;
  endpoint.eager_send_bytes = r.eager_bytes;
  endpoint.adaptive_timeout = r.adaptive_timeout;
  endpoint.min_retransmit_timeout = r.min_timeout;
  endpoint.max_backoff_shift = r.max_backoff_shift;
  endpoint.max_retransmits = r.max_retransmits;
  endpoint.give_up_after = r.failure_timeout;
}

}  // namespace inca::runtime
