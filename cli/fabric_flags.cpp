#include "fabric_flags.hpp"

#include <cmath>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

namespace inca::cli {
namespace {

Time from_ns(double ns) {
  return static_cast<Time>(std::llround(ns * static_cast<double>(kPicosPerNano)));
}

// Sets `mask` to the bits of the names in `list` (left alone when empty);
// "" when every name parses, else what does not.
template <typename T>
std::string parse_set(const std::string& list, std::optional<T> (*parse)(std::string_view),
                      const char* flag, std::uint32_t& mask) {
  if (list.empty()) return "";
  mask = 0;
  for (const std::string& name : split_list(list)) {
    auto value = parse(name);
    if (!value) return std::string(flag) + ": unknown name '" + name + "'";
    mask |= 1u << static_cast<unsigned>(*value);
  }
  return "";
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

void add_fabric_flags(CLI::App& cmd, FabricOptions& o, FabricFlags& f) {
  f.topology = std::string(to_string(o.topology));
  f.latency_ns = static_cast<double>(o.latency) / kPicosPerNano;
  auto ns = [](Time t) { return static_cast<double>(t) / kPicosPerNano; };
  f.send_overhead_ns = ns(o.host_send_overhead);
  f.recv_overhead_ns = ns(o.host_recv_overhead);
  f.gap_ns = ns(o.host_gap);
  f.switch_latency_ns = ns(o.switch_forwarding_latency);
  f.aggregation_latency_ns = ns(o.switch_aggregation_latency);
  if (!o.fabric_file.empty()) f.fabric_file = o.fabric_file;
  if (!o.preset.empty()) f.preset = o.preset;

  cmd.add_option("--fabric-file", f.fabric_file,
                 "A fabric file (YAML, docs/fabric-files.md); the flags below that are given "
                 "override its values");
  cmd.add_option("--preset", f.preset, "A fabric of presets/ (e.g. default-100g, ndr-400g)");
  f.ranks = cmd.add_option("--ranks", o.ranks, "Ranks, one per host (a generated file: its hosts)")
                ->capture_default_str();
  f.shape = {
      cmd.add_option("--topology", f.topology, "Built-in fabric: star | leaf-spine")
          ->capture_default_str(),
      cmd.add_option("--hosts-per-leaf", o.hosts_per_leaf, "Built-in leaf-spine: hosts per leaf")
          ->capture_default_str(),
      cmd.add_option("--spines", o.spines, "Built-in leaf-spine: spine switches")
          ->capture_default_str()};
  using Set = std::function<void(FabricOptions&)>;
  auto overriding = [&](CLI::Option* opt, Set set) {
    f.overriding.emplace_back(opt, std::move(set));
  };
  overriding(
      cmd.add_option("--link-gbps", o.link_gbps, "Rate of every link")->capture_default_str(),
      [](FabricOptions& x) { x.overrides.link_gbps = x.link_gbps; });
  overriding(
      cmd.add_option("--latency-ns", f.latency_ns, "Latency of every link")->capture_default_str(),
      [](FabricOptions& x) { x.overrides.link_latency = x.latency; });
  overriding(
      cmd.add_option("--mtu", o.mtu, "Largest inca packet on every link")->capture_default_str(),
      [](FabricOptions& x) { x.overrides.mtu = x.mtu; });
  overriding(cmd.add_option("--slot-bytes", o.slot_bytes, "Payload per switch slot")
                 ->capture_default_str(),
             [](FabricOptions& x) { x.overrides.slot_bytes = x.slot_bytes; });
  overriding(cmd.add_option("--switch-slots", o.switch_slots, "Slot pool per switch")
                 ->capture_default_str(),
             [](FabricOptions& x) { x.overrides.switch_slots = x.switch_slots; });
  overriding(cmd.add_option("--switch-dtypes", f.switch_dtypes,
                            "Comma-separated dtypes every switch aggregates (default: all); other "
                            "pairs fall back to host algorithms"),
             [](FabricOptions& x) { x.overrides.switch_caps = x.switch_caps; });
  overriding(cmd.add_option("--switch-ops", f.switch_ops,
                            "Comma-separated ops every switch aggregates (default: all)"),
             [](FabricOptions& x) { x.overrides.switch_caps = x.switch_caps; });
  overriding(
      cmd.add_option("--host-reduce-gbps", o.host_reduce_gbps, "Host reduction speed (0: free)")
          ->capture_default_str(),
      [](FabricOptions& x) { x.overrides.host_reduce_gbps = x.host_reduce_gbps; });
  overriding(cmd.add_option("--send-overhead-ns", f.send_overhead_ns,
                            "Host software cost of posting one message (LogGP o)")
                 ->capture_default_str(),
             [](FabricOptions& x) { x.overrides.send_overhead = x.host_send_overhead; });
  overriding(cmd.add_option("--recv-overhead-ns", f.recv_overhead_ns,
                            "Host software cost of taking one message in (LogGP o)")
                 ->capture_default_str(),
             [](FabricOptions& x) { x.overrides.recv_overhead = x.host_recv_overhead; });
  overriding(
      cmd.add_option("--gap-ns", f.gap_ns, "Least time between two messages of one host (LogGP g)")
          ->capture_default_str(),
      [](FabricOptions& x) { x.overrides.gap = x.host_gap; });
  overriding(
      cmd.add_option("--switch-latency-ns", f.switch_latency_ns,
                     "Port-to-port forwarding latency of every switch")
          ->capture_default_str(),
      [](FabricOptions& x) { x.overrides.forwarding_latency = x.switch_forwarding_latency; });
  overriding(
      cmd.add_option("--aggregation-latency-ns", f.aggregation_latency_ns,
                     "Per-contribution ALU latency of every switch")
          ->capture_default_str(),
      [](FabricOptions& x) { x.overrides.aggregation_latency = x.switch_aggregation_latency; });
  overriding(cmd.add_option("--aggregation-gbps", o.switch_aggregation_gbps,
                            "ALU payload rate of every switch (0: unlimited)")
                 ->capture_default_str(),
             [](FabricOptions& x) { x.overrides.aggregation_gbps = x.switch_aggregation_gbps; });
}

Status finish_fabric_flags(FabricFlags& f, FabricOptions& o) {
  auto bad = [](std::string why) {
    return make_error(StatusCode::invalid_argument, std::move(why));
  };
  if (f.topology == "star")
    o.topology = TopologyKind::star;
  else if (f.topology == "leaf-spine")
    o.topology = TopologyKind::leaf_spine;
  else
    return bad("unknown --topology '" + f.topology + "' (star, leaf-spine)");
  for (double v : {f.latency_ns, f.send_overhead_ns, f.recv_overhead_ns, f.gap_ns,
                   f.switch_latency_ns, f.aggregation_latency_ns})
    if (v < 0 || !std::isfinite(v)) return bad("times must not be negative");
  o.latency = from_ns(f.latency_ns);
  o.host_send_overhead = from_ns(f.send_overhead_ns);
  o.host_recv_overhead = from_ns(f.recv_overhead_ns);
  o.host_gap = from_ns(f.gap_ns);
  o.switch_forwarding_latency = from_ns(f.switch_latency_ns);
  o.switch_aggregation_latency = from_ns(f.aggregation_latency_ns);
  SwitchCaps& caps = o.switch_caps;
  for (const std::string& why :
       {parse_set<Dtype>(f.switch_dtypes, parse_dtype, "--switch-dtypes", caps.dtypes),
        parse_set<ReduceOp>(f.switch_ops, parse_op, "--switch-ops", caps.ops)})
    if (!why.empty()) return bad(why);

  if (!f.fabric_file.empty() && !f.preset.empty())
    return bad("give --fabric-file or --preset, not both");
  std::string path = f.fabric_file;
  if (!f.preset.empty()) {
    auto preset = FabricDescription::preset_path(f.preset);
    if (!preset.ok()) return preset.status();
    path = *preset;
  }
  if (path.empty()) return {};
  for (CLI::Option* shape : f.shape)
    if (shape->count() > 0)
      return bad(fmt::format("{} shapes the built-in fabric; the fabric file {} says the shape",
                             shape->get_name(), path));
  for (auto& [flag, set] : f.overriding)
    if (flag->count() > 0) set(o);
  if (f.ranks->count() > 0) o.overrides.hosts = o.ranks;
  FabricLoad load = FabricDescription::load(path, o.overrides);
  if (!load.ok()) {
    std::string errors;
    for (const Diagnostic& d : load.diagnostics) errors += "\n" + d.to_string();
    return make_error(StatusCode::config_error, "fabric file " + path + ":" + errors);
  }
  o.ranks = static_cast<std::uint32_t>(load.description->hosts.size());
  o.description = std::make_shared<const FabricDescription>(std::move(*load.description));
  o.overrides = {};  // applied by the load
  return {};
}

}  // namespace inca::cli
