#include "sweep_document.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "bench_report.hpp"
#include "inca/algorithm.hpp"

namespace inca::cli {
namespace {

nlohmann::json fabric_json(const FabricOptions& f) {
  return {{"topology", std::string(to_string(f.topology))},
          {"ranks", f.ranks},
          {"hosts_per_leaf", f.hosts_per_leaf},
          {"spines", f.spines},
          {"link_gbps", f.link_gbps},
          {"latency_ns", static_cast<double>(f.latency) / kPicosPerNano},
          {"mtu", f.mtu},
          {"switch_slots", f.switch_slots},
          {"slot_bytes", f.slot_bytes},
          {"window", f.window},
          {"fabric", std::string(to_string(f.fabric))}};
}

nlohmann::json header(const BenchOptions& o, std::string description) {
  return {{"collective", std::string(to_string(o.collective))},
          {"ranks", o.fabric.ranks},
          {"host", std::string(host_algorithm(o.collective))},
          {"busbw_factor", busbw_factor(o.collective, o.fabric.ranks)},
          {"description", std::move(description)},
          {"fabric", fabric_json(o.fabric)},
          {"rows", nlohmann::json::array()}};
}

}  // namespace

nlohmann::json sweep_document(const BenchReport& report, const BenchOptions& options) {
  nlohmann::json doc = header(options, report.fabric);
  BenchOptions with_stats = options;
  with_stats.stats = true;
  doc["rows"] = nlohmann::json::parse(format_report(report, with_stats, ReportFormat::json));
  doc["events"] = report.events;
  doc["wall_seconds"] = report.wall_seconds;
  return doc;
}

Result<nlohmann::json> load_sweep(const std::string& path, const BenchOptions& options) {
  auto bad = [&](const std::string& why) {
    return make_error(StatusCode::invalid_argument, fmt::format("{}: {}", path, why));
  };
  std::ifstream in(path);
  if (!in) return bad("cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad("is not JSON");
  if (j.is_array()) {
    nlohmann::json doc = header(options, "");
    doc["rows"] = std::move(j);
    doc["fabric_from_flags"] = true;
    j = std::move(doc);
  }
  if (!j.is_object() || !j.contains("rows") || !j["rows"].is_array())
    return bad("is neither a sweep document nor the row array of `inca bench --format json`");
  for (const char* key : {"collective", "ranks", "host", "fabric"})
    if (!j.contains(key)) return bad(fmt::format("the sweep document has no \"{}\"", key));
  for (const auto& row : j["rows"])
    for (const char* key : {"bytes", "algorithm", "time_us", "algbw_GBps", "nic_tx_bytes"})
      if (!row.is_object() || !row.contains(key))
        return bad(fmt::format("a row has no \"{}\": {}", key, row.dump().substr(0, 200)));
  if (!j["rows"].empty()) j["ranks"] = j["rows"][0].value("ranks", j["ranks"].get<int>());
  return j;
}

FabricOptions sweep_fabric(const nlohmann::json& doc) {
  FabricOptions f;
  const nlohmann::json& j = doc["fabric"];
  f.topology =
      j.value("topology", "leaf-spine") == "star" ? TopologyKind::star : TopologyKind::leaf_spine;
  f.ranks = doc.value("ranks", f.ranks);
  f.hosts_per_leaf = j.value("hosts_per_leaf", f.hosts_per_leaf);
  f.spines = j.value("spines", f.spines);
  f.link_gbps = j.value("link_gbps", f.link_gbps);
  f.latency = static_cast<Time>(j.value("latency_ns", 500.0) * kPicosPerNano);
  f.mtu = j.value("mtu", f.mtu);
  f.switch_slots = j.value("switch_slots", f.switch_slots);
  f.slot_bytes = j.value("slot_bytes", f.slot_bytes);
  f.window = j.value("window", f.window);
  return f;
}

}  // namespace inca::cli
