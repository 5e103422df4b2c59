#include "inca/fabric_description.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "fabric/fabric_reader.hpp"
#include "fabric/units.hpp"
#include "fabric/yaml_reader.hpp"

#ifndef INCA_PRESET_DIR
#define INCA_PRESET_DIR ""
#endif

namespace inca {

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::error:
      return "error";
    case Severity::warning:
      return "warning";
    case Severity::note:
      return "note";
  }
  return "error";
}

std::string_view to_string(StreamingLock lock) {
  return lock == StreamingLock::per_switch ? "per_switch" : "per_port";
}

std::string Diagnostic::to_string() const {
  std::string out = where.file.empty() ? "<fabric>" : where.file;
  if (where.line > 0) out += fmt::format(":{}:{}", where.line, where.column);
  out += fmt::format(": {}: {}", inca::to_string(severity), message);
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

std::string FabricLoad::report() const {
  std::string out;
  for (const Diagnostic& d : diagnostics) out += d.to_string() + "\n";
  return out;
}

bool FabricOverrides::empty() const {
  return !hosts && !link_gbps && !link_latency && !mtu && !switch_slots && !slot_bytes &&
         !switch_caps && !forwarding_latency && !aggregation_latency && !aggregation_gbps &&
         !send_overhead && !recv_overhead && !gap && !host_reduce_gbps && !window;
}

std::string FabricOverrides::describe() const {
  using fabric_file::format_rate;
  using fabric_file::format_time;
  std::vector<std::string> parts;
  if (hosts) parts.push_back(fmt::format("{} hosts", *hosts));
  if (link_gbps) parts.push_back("link rate " + format_rate(*link_gbps));
  if (link_latency) parts.push_back("link latency " + format_time(*link_latency));
  if (mtu) parts.push_back(fmt::format("MTU {} B", *mtu));
  if (switch_slots) parts.push_back(fmt::format("{} slots per switch", *switch_slots));
  if (slot_bytes) parts.push_back(fmt::format("slot payload {} B", *slot_bytes));
  if (switch_caps) parts.push_back("switches aggregate " + switch_caps->describe());
  if (forwarding_latency) parts.push_back("forwarding latency " + format_time(*forwarding_latency));
  if (aggregation_latency)
    parts.push_back("aggregation latency " + format_time(*aggregation_latency));
  if (aggregation_gbps) parts.push_back("aggregation rate " + format_rate(*aggregation_gbps));
  if (send_overhead) parts.push_back("send overhead " + format_time(*send_overhead));
  if (recv_overhead) parts.push_back("receive overhead " + format_time(*recv_overhead));
  if (gap) parts.push_back("gap " + format_time(*gap));
  if (host_reduce_gbps) parts.push_back("host reduce rate " + format_rate(*host_reduce_gbps));
  if (window) parts.push_back(fmt::format("window {} slots", *window));
  return fmt::format("{}", fmt::join(parts, ", "));
}

FabricLoad FabricDescription::parse(const std::string& yaml, const std::string& file,
                                    const FabricOverrides& overrides) {
  return fabric_file::read_fabric(yaml, file, overrides);
}

FabricLoad FabricDescription::load(const std::string& path, const FabricOverrides& overrides) {
  FabricLoad load;
  const auto text = fabric_file::read_text_file(path, "fabric", load.diagnostics);
  return text ? parse(*text, path, overrides) : load;
}

Result<std::string> FabricDescription::preset_path(const std::string& name) {
  namespace fs = std::filesystem;
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("INCA_PRESETS"); env && *env) dirs.emplace_back(env);
  if (*INCA_PRESET_DIR) dirs.emplace_back(INCA_PRESET_DIR);
  std::vector<std::string> known;
  for (const fs::path& dir : dirs) {
    const fs::path file = dir / (name + ".yaml");
    std::error_code ec;
    if (name.find('/') == std::string::npos && fs::is_regular_file(file, ec)) return file.string();
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".yaml") known.push_back(entry.path().stem().string());
  }
  std::sort(known.begin(), known.end());
  return make_error(StatusCode::not_supported,
                    fmt::format("no preset '{}' (presets: {})", name,
                                known.empty() ? std::string("none found")
                                              : fmt::format("{}", fmt::join(known, ", "))));
}

Status FabricDescription::apply(const FabricOverrides& o) {
  if (o.hosts && *o.hosts != hosts.size())
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("{} ranks asked for, but the fabric has {} hosts", *o.hosts, hosts.size()));
  for (LinkDescription& l : links) {
    if (o.link_gbps) l.gbps = l.reverse_gbps = *o.link_gbps;
    if (o.link_latency) l.latency = *o.link_latency;
    if (o.mtu) l.mtu = *o.mtu;
  }
  for (SwitchDescription& s : switches) {
    if (o.switch_slots) s.slots = *o.switch_slots;
    if (o.slot_bytes) s.slot_payload_bytes = *o.slot_bytes;
    if (o.switch_caps) s.caps = *o.switch_caps;
    if (o.forwarding_latency) s.forwarding_latency = *o.forwarding_latency;
    if (o.aggregation_latency) s.aggregation_latency = *o.aggregation_latency;
    if (o.aggregation_gbps) s.aggregation_gbps = *o.aggregation_gbps;
  }
  for (HostDescription& h : hosts) {
    // A host port never throttles a link that an override speeds up.
    if (o.link_gbps)
      for (HostPortDescription& p : h.ports) p.gbps = std::max(p.gbps, *o.link_gbps);
    if (o.send_overhead) h.timing.send_overhead = *o.send_overhead;
    if (o.recv_overhead) h.timing.recv_overhead = *o.recv_overhead;
    if (o.gap) h.timing.gap = *o.gap;
    if (o.host_reduce_gbps) h.timing.reduce_gbps = *o.host_reduce_gbps;
    if (o.window) h.window = *o.window;
  }
  return {};
}

std::optional<std::size_t> FabricDescription::find_host(const std::string& name) const {
  for (std::size_t i = 0; i < hosts.size(); ++i)
    if (hosts[i].name == name) return i;
  return std::nullopt;
}

std::optional<std::size_t> FabricDescription::find_switch(const std::string& name) const {
  for (std::size_t i = 0; i < switches.size(); ++i)
    if (switches[i].name == name) return i;
  return std::nullopt;
}

}  // namespace inca
