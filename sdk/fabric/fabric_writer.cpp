// FabricDescription::to_yaml: the fabric element by element, every value
// explicit, in a form the reader takes back unchanged (units chosen so that
// parsing the text gives the same number).
#include <span>
#include <sstream>

#include <fmt/format.h>

#include "fabric/units.hpp"
#include "inca/dtype.hpp"
#include "inca/fabric_description.hpp"

namespace inca {
namespace {

using fabric_file::format_bytes;
using fabric_file::format_rate;
using fabric_file::format_time;

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string rate_or_unlimited(double gbps) {
  return gbps == 0 ? "unlimited" : format_rate(gbps);
}

template <typename T>
std::string name_list(std::uint32_t mask, std::span<const T> all) {
  if (mask == ~0u) return "all";
  std::vector<std::string> names;
  for (T v : all)
    if (mask & (1u << static_cast<unsigned>(v))) names.emplace_back(to_string(v));
  return fmt::format("[{}]", fmt::join(names, ", "));
}

std::string end_text(const LinkEnd& e) {
  return quote(e.port.empty() ? e.node : e.node + ":" + e.port);
}

}  // namespace

std::string FabricDescription::to_yaml() const {
  std::ostringstream out;
  out << "# " << (name.empty() ? "fabric" : name) << ", written element by element by inca"
      << (source.empty() ? "" : " from " + source) << "\n";
  out << "inca_fabric: 1\n";
  out << "name: " << quote(name) << "\n";
  out << "hosts:\n";
  for (const HostDescription& h : hosts) {
    std::vector<std::string> ports;
    for (const HostPortDescription& p : h.ports)
      ports.push_back(fmt::format("{{name: {}, rate: {}}}", quote(p.name), format_rate(p.gbps)));
    out << fmt::format(
        "  - {{name: {}, ports: [{}], send_overhead: {}, recv_overhead: {}, gap: {}, "
        "reduce_rate: {}{}}}\n",
        quote(h.name), fmt::join(ports, ", "), format_time(h.timing.send_overhead),
        format_time(h.timing.recv_overhead), format_time(h.timing.gap),
        rate_or_unlimited(h.timing.reduce_gbps),
        h.window ? fmt::format(", window: {}", h.window) : "");
  }
  out << "switches:\n";
  for (const SwitchDescription& s : switches) {
    out << fmt::format(
        "  - {{name: {}, tier: {}, radix: {}, forwarding_latency: {}, aggregation_latency: {}, "
        "aggregation_rate: {}, aggregation_packet_rate: {}, slots: {}, slot_payload: {}, "
        "dtypes: {}, ops: {}, aggregates: {}, llt_trees: {}, sat_trees: {}, streaming_lock: {}}}\n",
        quote(s.name), s.tier, s.radix, format_time(s.forwarding_latency),
        format_time(s.aggregation_latency), rate_or_unlimited(s.aggregation_gbps),
        s.aggregation_pps == 0 ? "unlimited" : fmt::format("{}pps", s.aggregation_pps), s.slots,
        format_bytes(s.slot_payload_bytes), name_list<Dtype>(s.caps.dtypes, all_dtypes()),
        name_list<ReduceOp>(s.caps.ops, all_ops()), s.aggregates ? "true" : "false",
        s.max_llt_trees, s.max_sat_trees, to_string(s.streaming_lock));
  }
  out << "links:\n";
  for (const LinkDescription& l : links)
    out << fmt::format("  - {{a: {}, b: {}, rate: {}, reverse_rate: {}, latency: {}, mtu: {}}}\n",
                       end_text(l.a), end_text(l.b), format_rate(l.gbps),
                       format_rate(l.reverse_gbps), format_time(l.latency), format_bytes(l.mtu));
  return out.str();
}

}  // namespace inca
