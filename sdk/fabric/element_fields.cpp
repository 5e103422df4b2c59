#include "fabric/element_fields.hpp"

#include <set>

#include <fmt/format.h>

#include "fabric/units.hpp"
#include "inca/dtype.hpp"
#include "wire/header.hpp"

namespace inca::fabric_file {

const std::vector<std::string_view> kHostKeys = {
    "ports", "nic_rate", "send_overhead", "recv_overhead", "gap", "reduce_rate", "window"};
const std::vector<std::string_view> kSwitchKeys = {"tier",
                                                   "radix",
                                                   "forwarding_latency",
                                                   "aggregation_latency",
                                                   "aggregation_rate",
                                                   "aggregation_packet_rate",
                                                   "slots",
                                                   "slot_payload",
                                                   "dtypes",
                                                   "ops",
                                                   "aggregates",
                                                   "llt_trees",
                                                   "sat_trees",
                                                   "streaming_lock"};
const std::vector<std::string_view> kLinkKeys = {"rate", "reverse_rate", "latency", "mtu"};

namespace {

constexpr std::uint64_t kMinMtu = wire::kHeaderBytes + 8;
constexpr std::uint64_t kMaxMtu = wire::kHeaderBytes + wire::kMaxPayloadBytes;

template <typename T, typename U>
void set(std::optional<T>& field, const std::optional<U>& value) {
  if (value) field = static_cast<T>(*value);
}

std::optional<std::vector<HostPortDescription>> read_ports(YamlReader& r, const YAML::Node& map,
                                                           const std::string& what) {
  if (const YAML::Node list = map["ports"]) {
    if (map["nic_rate"])
      r.error(map["nic_rate"], fmt::format("{} gives both 'ports' and 'nic_rate'", what),
              "'nic_rate: X' is short for 'ports: [{name: nic0, rate: X}]'");
    if (!r.expect_list(list, fmt::format("'ports' of {}", what))) return std::nullopt;
    std::vector<HostPortDescription> ports;
    std::set<std::string> names;
    for (const YAML::Node& p : list) {
      const std::string port_what = fmt::format("a port of {}", what);
      if (!r.expect_map(p, port_what)) continue;
      r.check_keys(p, {"name", "rate"}, port_what);
      if (!r.require(p, {"name", "rate"}, port_what)) continue;
      auto name = r.text(p, "name", port_what);
      auto rate = r.rate(p, "rate", port_what);
      if (!name || !rate) continue;
      if (name->empty() || name->find(':') != std::string::npos)
        r.error(p["name"],
                fmt::format("port name '{}' of {} must be non-empty without ':'", *name, what));
      if (!names.insert(*name).second)
        r.error(p["name"], fmt::format("{} has two ports named '{}'", what, *name));
      ports.push_back({*name, *rate});
    }
    if (ports.empty()) {
      r.error(list, fmt::format("{} has no ports", what));
      return std::nullopt;
    }
    if (ports.size() > 64)
      r.error(list, fmt::format("{} has {} ports; at most 64", what, ports.size()));
    return ports;
  }
  if (auto rate = r.rate(map, "nic_rate", what))
    return std::vector<HostPortDescription>{{"nic0", *rate}};
  return std::nullopt;
}

}  // namespace

HostFields read_host_fields(YamlReader& r, const YAML::Node& map, const std::string& what) {
  HostFields f;
  f.ports = read_ports(r, map, what);
  set(f.send_overhead, r.time(map, "send_overhead", what));
  set(f.recv_overhead, r.time(map, "recv_overhead", what));
  set(f.gap, r.time(map, "gap", what));
  set(f.reduce_gbps, r.rate(map, "reduce_rate", what, /*unlimited_ok=*/true));
  set(f.window, r.count(map, "window", what, 1, wire::kMaxSlot + 1u));
  return f;
}

SwitchFields read_switch_fields(YamlReader& r, const YAML::Node& map, const std::string& what) {
  SwitchFields f;
  set(f.tier, r.count(map, "tier", what, 1, 16));
  set(f.radix, r.count(map, "radix", what, 0, 65535));
  set(f.forwarding_latency, r.time(map, "forwarding_latency", what));
  set(f.aggregation_latency, r.time(map, "aggregation_latency", what));
  set(f.aggregation_gbps, r.rate(map, "aggregation_rate", what, true));
  if (const YAML::Node n = map["aggregation_packet_rate"]) {
    if (n.IsScalar() && n.Scalar() == "unlimited") {
      f.aggregation_pps = 0.0;
    } else if (auto s = r.text(map, "aggregation_packet_rate", what)) {
      const Parsed<double> pps = parse_packet_rate(*s);
      if (!pps.ok() || *pps <= 0)
        r.error(n,
                fmt::format("'aggregation_packet_rate' of {}: {}", what,
                            pps.ok() ? "must be above zero" : pps.error()),
                "e.g. 1.2e9pps, 500Mpps or unlimited");
      else
        f.aggregation_pps = *pps;
    }
  }
  set(f.slots, r.count(map, "slots", what, 1, wire::kMaxSlot + 1u));
  set(f.slot_payload, r.bytes(map, "slot_payload", what, 8, wire::kMaxPayloadBytes));
  set(f.dtypes, r.dtype_set(map, "dtypes", what));
  set(f.ops, r.op_set(map, "ops", what));
  set(f.aggregates, r.flag(map, "aggregates", what));
  set(f.llt_trees, r.count(map, "llt_trees", what, 0, 65535));
  set(f.sat_trees, r.count(map, "sat_trees", what, 0, 65535));
  if (auto lock = r.text(map, "streaming_lock", what)) {
    if (*lock == "per_switch")
      f.streaming_lock = StreamingLock::per_switch;
    else if (*lock == "per_port")
      f.streaming_lock = StreamingLock::per_port;
    else
      r.error(map["streaming_lock"], fmt::format("'streaming_lock' of {} is '{}'", what, *lock),
              "per_switch or per_port");
  }
  return f;
}

LinkFields read_link_fields(YamlReader& r, const YAML::Node& map, const std::string& what) {
  LinkFields f;
  set(f.gbps, r.rate(map, "rate", what));
  set(f.reverse_gbps, r.rate(map, "reverse_rate", what));
  set(f.latency, r.time(map, "latency", what));
  set(f.mtu, r.bytes(map, "mtu", what, kMinMtu, kMaxMtu));
  return f;
}

void DefaultsLog::note(const std::string& context, const char* field, const std::string& value) {
  std::string line = fmt::format("{}: {} = {} (default)", context, field, value);
  if (seen_.insert(line).second) lines_.push_back(std::move(line));
}

namespace {

// own, else model, else the default (logged).
template <typename T>
T pick(const std::optional<T>& own, const std::optional<T>* model, T fallback,
       const std::string& context, const char* field, DefaultsLog& log, const std::string& shown) {
  if (own) return *own;
  if (model && *model) return **model;
  log.note(context, field, shown);
  return fallback;
}

}  // namespace

HostDescription resolve_host(const HostFields& own, const HostFields* m, const std::string& ctx,
                             DefaultsLog& log) {
  HostDescription h;
  h.ports =
      pick(own.ports, m ? &m->ports : nullptr, std::vector<HostPortDescription>{{"nic0", 100.0}},
           ctx, "ports", log, "[{name: nic0, rate: 100Gbps}]");
  h.timing.send_overhead = pick(own.send_overhead, m ? &m->send_overhead : nullptr, Time{0}, ctx,
                                "send_overhead", log, "0ns");
  h.timing.recv_overhead = pick(own.recv_overhead, m ? &m->recv_overhead : nullptr, Time{0}, ctx,
                                "recv_overhead", log, "0ns");
  h.timing.gap = pick(own.gap, m ? &m->gap : nullptr, Time{0}, ctx, "gap", log, "0ns");
  h.timing.reduce_gbps = pick(own.reduce_gbps, m ? &m->reduce_gbps : nullptr, 0.0, ctx,
                              "reduce_rate", log, "unlimited");
  // No window means the job's (--window): a choice left to the run, not a
  // default filling a field.
  h.window = own.window ? *own.window : (m && m->window) ? *m->window : 0;
  return h;
}

SwitchDescription resolve_switch(const SwitchFields& own, const SwitchFields* m,
                                 const std::string& ctx, DefaultsLog& log) {
  const SwitchDescription d;
  SwitchDescription s;
  auto from = [&](auto member) { return m ? &(m->*member) : nullptr; };
  // Generators set the tier; an explicit switch without one is noted by the reader.
  s.tier = own.tier ? *own.tier : (m && m->tier) ? *m->tier : d.tier;
  s.radix = pick(own.radix, from(&SwitchFields::radix), d.radix, ctx, "radix", log,
                 "0 (as many ports as links)");
  s.forwarding_latency = pick(own.forwarding_latency, from(&SwitchFields::forwarding_latency),
                              d.forwarding_latency, ctx, "forwarding_latency", log, "0ns");
  s.aggregation_latency = pick(own.aggregation_latency, from(&SwitchFields::aggregation_latency),
                               d.aggregation_latency, ctx, "aggregation_latency", log, "0ns");
  s.aggregation_gbps = pick(own.aggregation_gbps, from(&SwitchFields::aggregation_gbps),
                            d.aggregation_gbps, ctx, "aggregation_rate", log, "unlimited");
  s.aggregation_pps = pick(own.aggregation_pps, from(&SwitchFields::aggregation_pps),
                           d.aggregation_pps, ctx, "aggregation_packet_rate", log, "unlimited");
  s.slots = pick(own.slots, from(&SwitchFields::slots), d.slots, ctx, "slots", log,
                 std::to_string(d.slots));
  s.slot_payload_bytes =
      pick(own.slot_payload, from(&SwitchFields::slot_payload), d.slot_payload_bytes, ctx,
           "slot_payload", log, format_bytes(d.slot_payload_bytes));
  s.caps.dtypes =
      pick(own.dtypes, from(&SwitchFields::dtypes), d.caps.dtypes, ctx, "dtypes", log, "all");
  s.caps.ops = pick(own.ops, from(&SwitchFields::ops), d.caps.ops, ctx, "ops", log, "all");
  s.aggregates = pick(own.aggregates, from(&SwitchFields::aggregates), d.aggregates, ctx,
                      "aggregates", log, "true");
  s.max_llt_trees = pick(own.llt_trees, from(&SwitchFields::llt_trees), d.max_llt_trees, ctx,
                         "llt_trees", log, std::to_string(d.max_llt_trees));
  s.max_sat_trees = pick(own.sat_trees, from(&SwitchFields::sat_trees), d.max_sat_trees, ctx,
                         "sat_trees", log, std::to_string(d.max_sat_trees));
  s.streaming_lock = pick(own.streaming_lock, from(&SwitchFields::streaming_lock), d.streaming_lock,
                          ctx, "streaming_lock", log, std::string(to_string(d.streaming_lock)));
  return s;
}

LinkDescription resolve_link(const LinkFields& own, const LinkFields* m, const std::string& ctx,
                             DefaultsLog& log) {
  const LinkDescription d;
  LinkDescription l;
  l.gbps = pick(own.gbps, m ? &m->gbps : nullptr, d.gbps, ctx, "rate", log, format_rate(d.gbps));
  // The reverse direction runs at the forward rate unless said otherwise:
  // not a default worth listing.
  l.reverse_gbps = own.reverse_gbps                      ? *own.reverse_gbps
                   : (m && m->reverse_gbps && !own.gbps) ? *m->reverse_gbps
                                                         : l.gbps;
  l.latency = pick(own.latency, m ? &m->latency : nullptr, d.latency, ctx, "latency", log,
                   format_time(d.latency));
  l.mtu = pick(own.mtu, m ? &m->mtu : nullptr, d.mtu, ctx, "mtu", log, format_bytes(d.mtu));
  return l;
}

}  // namespace inca::fabric_file
