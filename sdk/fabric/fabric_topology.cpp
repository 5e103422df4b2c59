#include "fabric/fabric_topology.hpp"

#include <fmt/format.h>

#include "fabric/fabric_checks.hpp"

namespace inca::fabric_file {

Result<topology::Topology> build_topology(const FabricDescription& f) {
  YamlReader sink(f.source);
  auto links = resolve_links(f, &sink);
  if (!links) return make_error(StatusCode::config_error, sink.diagnostics().front().to_string());
  if (f.hosts.empty() || f.switches.empty())
    return make_error(StatusCode::config_error, "a fabric needs hosts and switches");
  if (f.hosts.size() > 65535)
    return make_error(StatusCode::config_error,
                      fmt::format("{} hosts: at most 65535", f.hosts.size()));
  topology::Topology t;
  std::vector<std::uint32_t> switch_node, host_node;
  for (const SwitchDescription& s : f.switches) {
    topology::SwitchSpec spec;
    spec.slots = s.slots;
    spec.slot_payload_bytes = s.slot_payload_bytes;
    spec.caps = s.caps;
    spec.aggregates = s.aggregates;
    spec.forwarding_latency = s.forwarding_latency;
    spec.aggregation_latency = s.aggregation_latency;
    spec.aggregation_gbps = s.aggregation_gbps;
    spec.aggregation_pps = s.aggregation_pps;
    spec.max_llt_trees = s.max_llt_trees;
    spec.max_sat_trees = s.max_sat_trees;
    spec.streaming_lock = s.streaming_lock;
    switch_node.push_back(t.add_switch(s.name, spec, s.tier));
  }
  for (const HostDescription& h : f.hosts)
    host_node.push_back(t.add_host(h.name, static_cast<std::uint16_t>(h.ports.size()), h.timing));
  for (std::size_t i = 0; i < links->size(); ++i) {
    const auto& [a, b] = (*links)[i];
    const LinkDescription& l = f.links[i];
    const topology::LinkSpec ab{l.gbps, l.latency, l.mtu}, ba{l.reverse_gbps, l.latency, l.mtu};
    if (!a.host && !b.host) {
      t.connect(switch_node[a.index], switch_node[b.index], ab, ba);
      continue;
    }
    const ResolvedEnd& h = a.host ? a : b;
    const ResolvedEnd& s = a.host ? b : a;
    topology::LinkSpec up = a.host ? ab : ba, down = a.host ? ba : ab;
    // The NIC port caps the link in both directions.
    const double port = f.hosts[h.index].ports[h.port].gbps;
    up.gbps = std::min(up.gbps, port);
    down.gbps = std::min(down.gbps, port);
    t.connect_port(host_node[h.index], h.port, switch_node[s.index], up, down);
  }
  t.finalize();
  t.set_description(fmt::format("{}{}: {} hosts, {} switches, {} links",
                                f.name.empty() ? "fabric" : f.name,
                                f.generator.empty() ? "" : " (" + f.generator + ")", f.hosts.size(),
                                f.switches.size(), f.links.size()));
  return t;
}

}  // namespace inca::fabric_file
