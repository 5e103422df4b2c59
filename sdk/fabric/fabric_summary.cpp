// FabricDescription::summary, what `inca describe` prints: what the file
// builds, its capacity, and every default that filled a missing field.
#include <algorithm>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "fabric/fabric_checks.hpp"
#include "fabric/units.hpp"
#include "inca/fabric_description.hpp"

namespace inca {
namespace {

using fabric_file::format_rate;
using fabric_file::format_time;

// "a" or "a..b" over the values, formatted.
template <typename T, typename Fmt>
std::string range(const std::vector<T>& values, Fmt format) {
  if (values.empty()) return "-";
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  return *lo == *hi ? format(*lo) : format(*lo) + ".." + format(*hi);
}

std::string gbps(double g) {
  if (g >= 1000) return fmt::format("{:g} Tb/s", g / 1000);
  return fmt::format("{:g} Gb/s", g);
}

// "quantum2" from a model's context "switch_models 'quantum2'".
std::string model_name(const std::string& model) {
  const auto open = model.find('\'');
  const auto close = model.rfind('\'');
  return open != std::string::npos && close > open ? model.substr(open + 1, close - open - 1)
                                                   : model;
}

}  // namespace

std::string FabricDescription::summary() const {
  std::ostringstream out;
  out << fmt::format(
      "fabric '{}'{}{}\n", name, source.empty() ? "" : " from " + source,
      generator.empty() ? " (element by element)" : " (generated: " + generator + ")");
  std::map<std::size_t, std::size_t> port_counts;
  for (const HostDescription& h : hosts) ++port_counts[h.ports.size()];
  std::vector<std::string> ports;
  for (const auto& [n, count] : port_counts)
    ports.push_back(fmt::format("{} with {} port(s)", count, n));
  out << fmt::format("hosts: {} ({})\n", hosts.size(), fmt::join(ports, ", "));
  // Per tier and model, so a tier of two kinds (InfiniBand leaves beside
  // NVLink domain switches) shows both.
  std::map<std::pair<std::uint32_t, std::string>, std::vector<std::string>> tiers;
  for (const SwitchDescription& s : switches)
    tiers[{s.tier, model_name(s.model)}].push_back(s.name);
  out << fmt::format("switches: {}\n", switches.size());
  for (const auto& [kind, names] : tiers)
    out << fmt::format("  tier {}: {}{} ({}{})\n", kind.first, names.size(),
                       kind.second.empty() ? "" : " x " + kind.second, names.front(),
                       names.size() > 1 ? ".." + names.back() : "");

  auto resolved = fabric_file::resolve_links(*this, nullptr);
  out << fmt::format("links: {}\n", links.size());
  if (resolved) {
    std::map<std::pair<std::string, std::string>, std::size_t> kinds;
    for (std::size_t i = 0; i < links.size(); ++i) {
      const auto& [a, b] = (*resolved)[i];
      const bool host_link = a.host || b.host;
      const std::string rate = links[i].gbps == links[i].reverse_gbps
                                   ? gbps(links[i].gbps)
                                   : gbps(links[i].gbps) + " / " + gbps(links[i].reverse_gbps);
      ++kinds[{host_link ? "host links" : "switch links", rate}];
    }
    for (const auto& [kind, count] : kinds)
      out << fmt::format("  {} x {} {}\n", count, kind.second, kind.first);

    // Bisection: half the least capacity across a tier boundary (exact for
    // tiered Clos fabrics; an estimate elsewhere).
    std::map<std::uint32_t, double> across;  // boundary below tier t -> capacity up
    for (std::size_t i = 0; i < links.size(); ++i) {
      const auto& [a, b] = (*resolved)[i];
      const std::uint32_t ta = a.host ? 0 : switches[a.index].tier;
      const std::uint32_t tb = b.host ? 0 : switches[b.index].tier;
      if (ta == tb) continue;
      const bool a_low = ta < tb;
      const double up = a_low ? links[i].gbps : links[i].reverse_gbps;
      const auto& low = a_low ? a : b;
      across[std::max(ta, tb)] +=
          low.host ? std::min(up, hosts[low.index].ports[low.port].gbps) : up;
    }
    double least = 0;
    for (const auto& [tier, cap] : across) least = least == 0 ? cap : std::min(least, cap);
    out << fmt::format(
        "bisection bandwidth: {} each way (half the least capacity across a tier "
        "boundary)\n",
        gbps(least / 2));
    const auto loads = fabric_file::tier_loads(*this, *resolved);
    if (loads.empty()) out << "oversubscription: none (no switch has links both down and up)\n";
    for (const auto& t : loads)
      out << fmt::format("oversubscription, tier {}: {:.3g}:1 (worst switch {}: {} down, {} up)\n",
                         t.tier, t.ratio, t.worst, gbps(t.down_gbps), gbps(t.up_gbps));
  }

  std::vector<Time> so, ro, gap;
  std::vector<double> reduce;
  std::vector<std::uint32_t> window;
  for (const HostDescription& h : hosts) {
    window.push_back(h.window);
    so.push_back(h.timing.send_overhead);
    ro.push_back(h.timing.recv_overhead);
    gap.push_back(h.timing.gap);
    reduce.push_back(h.timing.reduce_gbps);
  }
  out << fmt::format(
      "host timing: send overhead {}, receive overhead {}, gap {}, reduce {}, window {}\n",
      range(so, format_time), range(ro, format_time), range(gap, format_time),
      range(reduce, [](double g) { return g == 0 ? std::string("free") : gbps(g); }),
      range(window, [](std::uint32_t w) {
        return w == 0 ? std::string("the job's") : std::to_string(w) + " slots";
      }));
  for (const auto& [kind, names] : tiers) {
    std::vector<Time> fwd, agg;
    std::vector<double> alu;
    std::vector<std::uint32_t> slots, payload;
    for (const SwitchDescription& s : switches) {
      if (s.tier != kind.first || model_name(s.model) != kind.second) continue;
      fwd.push_back(s.forwarding_latency);
      agg.push_back(s.aggregation_latency);
      alu.push_back(s.aggregation_gbps);
      slots.push_back(s.slots);
      payload.push_back(s.slot_payload_bytes);
    }
    out << fmt::format(
        "switch timing, tier {}{}: forwarding {}, aggregation {}, ALU {}, {} slots x {} B\n",
        kind.first, kind.second.empty() ? "" : " " + kind.second, range(fwd, format_time),
        range(agg, format_time),
        range(alu, [](double g) { return g == 0 ? std::string("unlimited") : gbps(g); }),
        range(slots, [](std::uint32_t v) { return std::to_string(v); }),
        range(payload, [](std::uint32_t v) { return std::to_string(v); }));
  }
  if (defaults.empty()) {
    out << "defaults used: none (every field was given)\n";
  } else {
    out << "defaults used:\n";
    for (const std::string& d : defaults) out << "  " << d << "\n";
  }
  return out.str();
}

}  // namespace inca
