// The fabric a World runs on, always as a FabricDescription: a description
// or fabric file (with the overrides applied), or the built-in star or
// leaf-spine that FabricOptions' fields describe, made by the same generators
// fabric files use.
#include <cmath>

#include <fmt/format.h>

#include "fabric/generators.hpp"
#include "inca/world.hpp"
#include "runtime/recovery_options.hpp"
#include "wire/header.hpp"

namespace inca {
namespace {

Status validate_fields(const FabricOptions& o) {
  auto bad = [](std::string what) {
    return make_error(StatusCode::invalid_argument, std::move(what));
  };
  if (o.topology != TopologyKind::star && o.topology != TopologyKind::leaf_spine)
    return bad(fmt::format("FabricOptions.topology {} is no topology kind (star, leaf-spine)",
                           static_cast<int>(o.topology)));
  if (o.ranks == 0) return bad("a world needs at least one rank");
  if (o.ranks > 65535) return bad(fmt::format("{} ranks: at most 65535", o.ranks));
  if (!(o.link_gbps > 0) || !std::isfinite(o.link_gbps))
    return bad(fmt::format("link rate {} Gb/s must be positive", o.link_gbps));
  if (o.latency < 0) return bad("link latency must not be negative");
  if (o.mtu < wire::kHeaderBytes + 8 || o.mtu > wire::kHeaderBytes + wire::kMaxPayloadBytes)
    return bad(fmt::format("mtu {} outside {}..{}", o.mtu, wire::kHeaderBytes + 8,
                           wire::kHeaderBytes + wire::kMaxPayloadBytes));
  if (o.slot_bytes < 8)
    return bad(fmt::format("slot payload {} B is below one element", o.slot_bytes));
  if (o.switch_slots == 0 || o.switch_slots > wire::kMaxSlot + 1u)
    return bad(fmt::format("switch slots {} outside 1..{}", o.switch_slots, wire::kMaxSlot + 1));
  if (o.topology == TopologyKind::leaf_spine && (o.hosts_per_leaf == 0 || o.spines == 0))
    return bad("leaf-spine needs hosts per leaf and spines >= 1");
  if (o.host_reduce_gbps < 0 || !std::isfinite(o.host_reduce_gbps))
    return bad("host reduce rate must not be negative");
  if (o.switch_aggregation_gbps < 0 || !std::isfinite(o.switch_aggregation_gbps))
    return bad("switch aggregation rate must not be negative");
  for (Time t : {o.host_send_overhead, o.host_recv_overhead, o.host_gap,
                 o.switch_forwarding_latency, o.switch_aggregation_latency})
    if (t < 0) return bad("host and switch timings must not be negative");
  return {};
}

// The fabric of FabricOptions' fields: every element alike.
Result<FabricDescription> built_in(const FabricOptions& o) {
  INCA_RETURN_IF_ERROR(validate_fields(o));
  HostDescription host;
  host.ports = {{"nic0", o.link_gbps}};
  host.timing = {o.host_send_overhead, o.host_recv_overhead, o.host_gap, o.host_reduce_gbps};
  SwitchDescription sw;
  sw.slots = o.switch_slots;
  sw.slot_payload_bytes = o.slot_bytes;
  sw.caps = o.switch_caps;
  sw.forwarding_latency = o.switch_forwarding_latency;
  sw.aggregation_latency = o.switch_aggregation_latency;
  sw.aggregation_gbps = o.switch_aggregation_gbps;
  LinkDescription link;
  link.gbps = link.reverse_gbps = o.link_gbps;
  link.latency = o.latency;
  link.mtu = o.mtu;
  FabricDescription f;
  f.name = o.topology == TopologyKind::star ? "star" : "leaf-spine";
  if (o.topology == TopologyKind::star) {
    f.generator = "star";
    fabric_file::generate_star(f, o.ranks, host, sw, link);
  } else {
    f.generator = "leaf_spine";
    fabric_file::generate_leaf_spine(f, {o.ranks, o.hosts_per_leaf, o.spines, 0}, host, sw, sw,
                                     link, link);
  }
  for (const auto& [name, caps] : o.switch_caps_by_name) {
    auto i = f.find_switch(name);
    if (!i)
      return make_error(
          StatusCode::invalid_argument,
          fmt::format("FabricOptions.switch_caps_by_name: no switch named '{}'", name));
    f.switches[*i].caps = caps;
  }
  return f;
}

}  // namespace

Result<FabricDescription> World::describe_fabric(const FabricOptions& o) {
  if (o.description) {
    FabricDescription f = *o.description;
    INCA_RETURN_IF_ERROR(f.apply(o.overrides));
    return f;
  }
  if (!o.fabric_file.empty() || !o.preset.empty()) {
    std::string path = o.fabric_file;
    if (path.empty()) {
      auto preset = FabricDescription::preset_path(o.preset);
      if (!preset.ok()) return preset.status();
      path = *preset;
    }
    FabricLoad load = FabricDescription::load(path, o.overrides);
    if (!load.ok()) {
      std::vector<std::string> errors;
      for (const Diagnostic& d : load.diagnostics)
        if (d.severity == Severity::error) errors.push_back(d.to_string());
      return make_error(StatusCode::config_error, fmt::format("fabric file {} is invalid:\n{}",
                                                              path, fmt::join(errors, "\n")));
    }
    return std::move(*load.description);
  }
  return built_in(o);
}

}  // namespace inca
