// The knob table: each entry reads and writes one field, in the units its
// environment variable uses (ns and us rather than the picoseconds of Time).
#include "inca/knobs.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace inca {
namespace {

struct Settings {
  FabricOptions fabric;
  AllreduceOptions call;
};

struct Knob {
  const char* env;
  const char* doc;
  std::function<std::string(const Settings&)> get;
  // Empty on success, else why the text is rejected.
  std::function<std::string(Settings&, std::string_view)> set;
};

std::optional<double> parse_double(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return {};
  return v;
}

std::optional<std::uint32_t> parse_u32(std::string_view text) {
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return {};
  return v;
}

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "1" || text == "true" || text == "on" || text == "yes") return true;
  if (text == "0" || text == "false" || text == "off" || text == "no") return false;
  return {};
}

Knob u32_knob(const char* env, const char* doc, std::uint32_t FabricOptions::*field) {
  return {env, doc, [field](const Settings& s) { return std::to_string(s.fabric.*field); },
          [field](Settings& s, std::string_view text) -> std::string {
            auto v = parse_u32(text);
            if (!v || *v == 0) return "not a positive integer";
            s.fabric.*field = *v;
            return "";
          }};
}

// A Time field set in `unit` picoseconds (1000 for ns, 1e6 for us).
Knob time_knob(const char* env, const char* doc, Time FabricOptions::*field, double unit) {
  return {env, doc,
          [field, unit](const Settings& s) {
            return fmt::format("{:g}", static_cast<double>(s.fabric.*field) / unit);
          },
          [field, unit](Settings& s, std::string_view text) -> std::string {
            auto v = parse_double(text);
            if (!v || *v < 0 || *v * unit > static_cast<double>(std::numeric_limits<Time>::max()))
              return "not a non-negative number";
            s.fabric.*field = static_cast<Time>(std::llround(*v * unit));
            return "";
          }};
}

const std::vector<Knob>& knobs() {
  static const std::vector<Knob> table = {
      u32_knob("INCA_RANKS", "ranks, one per host", &FabricOptions::ranks),
      {"INCA_LINK_GBPS", "rate of every link in Gb/s",
       [](const Settings& s) { return fmt::format("{:g}", s.fabric.link_gbps); },
       [](Settings& s, std::string_view text) -> std::string {
         auto v = parse_double(text);
         if (!v || *v <= 0) return "not a positive number";
         s.fabric.link_gbps = *v;
         return "";
       }},
      time_knob("INCA_LATENCY_NS", "latency of every link in ns (propagation plus switching)",
                &FabricOptions::latency, static_cast<double>(kPicosPerNano)),
      u32_knob("INCA_MTU", "largest inca packet in bytes (header + payload)", &FabricOptions::mtu),
      u32_knob("INCA_SWITCH_SLOTS", "aggregation slots in every switch's pool",
               &FabricOptions::switch_slots),
      u32_knob("INCA_SLOT_BYTES", "payload bytes per switch slot (one aggregation packet)",
               &FabricOptions::slot_bytes),
      u32_knob("INCA_WINDOW", "slots a tree takes = aggregation chunks in flight per host",
               &FabricOptions::window),
      time_knob("INCA_RETRANSMIT_TIMEOUT_US", "first retransmission timeout in us",
                &FabricOptions::retransmit_timeout, static_cast<double>(kPicosPerMicro)),
      {"INCA_TIMING_ONLY", "payload-free mode: sizes and times only, no data (0/1)",
       [](const Settings& s) { return std::string(s.fabric.timing_only ? "1" : "0"); },
       [](Settings& s, std::string_view text) -> std::string {
         auto v = parse_bool(text);
         if (!v) return "not a boolean (0/1, true/false, on/off, yes/no)";
         s.fabric.timing_only = *v;
         return "";
       }},
      {"INCA_ALGORITHM", "all-reduce algorithm: auto, innet, ring, ... (a registered name)",
       [](const Settings& s) { return s.call.algorithm; },
       [](Settings& s, std::string_view text) -> std::string {
         if (text.empty()) return "empty algorithm name";
         s.call.algorithm = std::string(text);
         return "";
       }},
      {"INCA_REPRODUCIBLE", "reduce in a fixed order: bit-identical results across runs (0/1)",
       [](const Settings& s) { return std::string(s.call.reproducible ? "1" : "0"); },
       [](Settings& s, std::string_view text) -> std::string {
         auto v = parse_bool(text);
         if (!v) return "not a boolean (0/1, true/false, on/off, yes/no)";
         s.call.reproducible = *v;
         return "";
       }},
  };
  return table;
}

}  // namespace

Status apply_env_overrides(FabricOptions& fabric, AllreduceOptions* call) {
  Settings s{fabric, call ? *call : AllreduceOptions{}};
  for (const Knob& knob : knobs()) {
    const char* text = std::getenv(knob.env);
    if (!text) continue;
    std::string why = knob.set(s, text);
    if (!why.empty())
      return make_error(StatusCode::config_error,
                        fmt::format("{}='{}': {} ({})", knob.env, text, why, knob.doc));
  }
  fabric = s.fabric;
  if (call) *call = s.call;
  return {};
}

std::vector<KnobInfo> describe_knobs(const FabricOptions& fabric, const AllreduceOptions& call) {
  const Settings now{fabric, call};
  const Settings defaults{};
  std::vector<KnobInfo> out;
  for (const Knob& knob : knobs())
    out.push_back({knob.env, knob.get(now), knob.get(defaults), knob.doc});
  return out;
}

}  // namespace inca
