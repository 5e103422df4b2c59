// The knob table: each entry reads and writes one field, in the units its
// environment variable uses (ns and us rather than the picoseconds of Time).
#include "inca/knobs.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
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

// Knobs read and write a field through an accessor, so one helper serves
// fabric, recovery and call fields alike.
template <typename T>
using Access = T& (*)(Settings&);

template <typename T>
const T& read(Access<T> field, const Settings& s) {
  return field(const_cast<Settings&>(s));  // the accessor only selects a member
}

Knob u32_knob(const char* env, const char* doc, Access<std::uint32_t> field, bool zero_ok = false) {
  return {env, doc, [field](const Settings& s) { return std::to_string(read(field, s)); },
          [field, zero_ok](Settings& s, std::string_view text) -> std::string {
            auto v = parse_u32(text);
            if (!v || (*v == 0 && !zero_ok))
              return zero_ok ? "not a non-negative integer" : "not a positive integer";
            field(s) = *v;
            return "";
          }};
}

Knob double_knob(const char* env, const char* doc, Access<double> field, bool zero_ok) {
  return {env, doc, [field](const Settings& s) { return fmt::format("{:g}", read(field, s)); },
          [field, zero_ok](Settings& s, std::string_view text) -> std::string {
            auto v = parse_double(text);
            if (!v || *v < 0 || (*v == 0 && !zero_ok))
              return zero_ok ? "not a non-negative number" : "not a positive number";
            field(s) = *v;
            return "";
          }};
}

// A Time field set in `unit` picoseconds (1000 for ns, 1e6 for us).
Knob time_knob(const char* env, const char* doc, Access<Time> field, double unit) {
  return {env, doc,
          [field, unit](const Settings& s) {
            return fmt::format("{:g}", static_cast<double>(read(field, s)) / unit);
          },
          [field, unit](Settings& s, std::string_view text) -> std::string {
            auto v = parse_double(text);
            if (!v || *v < 0 || *v * unit > static_cast<double>(std::numeric_limits<Time>::max()))
              return "not a non-negative number";
            field(s) = static_cast<Time>(std::llround(*v * unit));
            return "";
          }};
}

Knob bool_knob(const char* env, const char* doc, Access<bool> field) {
  return {env, doc, [field](const Settings& s) { return std::string(read(field, s) ? "1" : "0"); },
          [field](Settings& s, std::string_view text) -> std::string {
            auto v = parse_bool(text);
            if (!v) return "not a boolean (0/1, true/false, on/off, yes/no)";
            field(s) = *v;
            return "";
          }};
}

Knob string_knob(const char* env, const char* doc, std::string& (*field)(Settings&)) {
  return {env, doc, [field](const Settings& s) { return read(field, s); },
          [field](Settings& s, std::string_view text) -> std::string {
            field(s) = std::string(text);
            return "";
          }};
}

// The knobs that describe the fabric: once set they also replace the value
// of every element of a fabric file (FabricOptions::overrides).
using FileOverride = void (*)(FabricOptions&);
const std::map<std::string_view, FileOverride>& file_overrides() {
  static const std::map<std::string_view, FileOverride> table = {
      {"INCA_RANKS", [](FabricOptions& f) { f.overrides.hosts = f.ranks; }},
      {"INCA_LINK_GBPS", [](FabricOptions& f) { f.overrides.link_gbps = f.link_gbps; }},
      {"INCA_LATENCY_NS", [](FabricOptions& f) { f.overrides.link_latency = f.latency; }},
      {"INCA_MTU", [](FabricOptions& f) { f.overrides.mtu = f.mtu; }},
      {"INCA_SWITCH_SLOTS", [](FabricOptions& f) { f.overrides.switch_slots = f.switch_slots; }},
      {"INCA_SLOT_BYTES", [](FabricOptions& f) { f.overrides.slot_bytes = f.slot_bytes; }},
      {"INCA_WINDOW", [](FabricOptions& f) { f.overrides.window = f.window; }},
      {"INCA_HOST_REDUCE_GBPS",
       [](FabricOptions& f) { f.overrides.host_reduce_gbps = f.host_reduce_gbps; }},
      {"INCA_SEND_OVERHEAD_NS",
       [](FabricOptions& f) { f.overrides.send_overhead = f.host_send_overhead; }},
      {"INCA_RECV_OVERHEAD_NS",
       [](FabricOptions& f) { f.overrides.recv_overhead = f.host_recv_overhead; }},
      {"INCA_GAP_NS", [](FabricOptions& f) { f.overrides.gap = f.host_gap; }},
      {"INCA_SWITCH_LATENCY_NS",
       [](FabricOptions& f) { f.overrides.forwarding_latency = f.switch_forwarding_latency; }},
      {"INCA_AGGREGATION_LATENCY_NS",
       [](FabricOptions& f) { f.overrides.aggregation_latency = f.switch_aggregation_latency; }},
      {"INCA_AGGREGATION_GBPS",
       [](FabricOptions& f) { f.overrides.aggregation_gbps = f.switch_aggregation_gbps; }},
  };
  return table;
}

// An enum field with to_string and a parser returning optional.
template <typename E, typename Parse>
Knob enum_knob(const char* env, const char* doc, Access<E> field, Parse parse,
               const char* choices) {
  return {env, doc, [field](const Settings& s) { return std::string(to_string(read(field, s))); },
          [field, parse, choices](Settings& s, std::string_view text) -> std::string {
            auto v = parse(text);
            if (!v) return fmt::format("not one of {}", choices);
            field(s) = *v;
            return "";
          }};
}

std::optional<TopologyKind> parse_topology(std::string_view text) {
  for (TopologyKind k : {TopologyKind::star, TopologyKind::leaf_spine})
    if (text == to_string(k)) return k;
  return {};
}

std::optional<FabricKind> parse_fabric(std::string_view text) {
  for (FabricKind k : {FabricKind::sim, FabricKind::live})
    if (text == to_string(k)) return k;
  return {};
}

const std::vector<Knob>& knobs() {
  constexpr double ns = static_cast<double>(kPicosPerNano);
  constexpr double us = static_cast<double>(kPicosPerMicro);
  static const std::vector<Knob> table = {
      // inca launch sets udp (or memif) for rank processes (ProcessWorld);
      // those leave an in-process world's choice alone.
      {"INCA_FABRIC",
       "fabric: sim (discrete-event) or live (threads, wall clock); udp/memif: rank processes",
       [](const Settings& s) { return std::string(to_string(s.fabric.fabric)); },
       [](Settings& s, std::string_view text) -> std::string {
         if (text == "udp" || text == "memif") return "";
         auto v = parse_fabric(text);
         if (!v) return "not one of sim, live, udp, memif";
         s.fabric.fabric = *v;
         return "";
       }},
      enum_knob<TopologyKind>(
          "INCA_TOPOLOGY", "topology: star (one switch) or leaf-spine",
          [](Settings& s) -> TopologyKind& { return s.fabric.topology; }, parse_topology,
          "star, leaf-spine"),
      u32_knob("INCA_RANKS", "ranks, one per host",
               [](Settings& s) -> std::uint32_t& { return s.fabric.ranks; }),
      u32_knob("INCA_HOSTS_PER_LEAF", "hosts on each leaf switch (leaf-spine)",
               [](Settings& s) -> std::uint32_t& { return s.fabric.hosts_per_leaf; }),
      u32_knob("INCA_SPINES", "spine switches (leaf-spine)",
               [](Settings& s) -> std::uint32_t& { return s.fabric.spines; }),
      double_knob(
          "INCA_LINK_GBPS", "rate of every link in Gb/s",
          [](Settings& s) -> double& { return s.fabric.link_gbps; }, false),
      time_knob(
          "INCA_LATENCY_NS", "latency of every link in ns (propagation plus switching)",
          [](Settings& s) -> Time& { return s.fabric.latency; }, ns),
      u32_knob("INCA_MTU", "largest inca packet in bytes (header + payload)",
               [](Settings& s) -> std::uint32_t& { return s.fabric.mtu; }),
      u32_knob("INCA_SWITCH_SLOTS", "aggregation slots in every switch's pool",
               [](Settings& s) -> std::uint32_t& { return s.fabric.switch_slots; }),
      u32_knob("INCA_SLOT_BYTES", "payload bytes per switch slot (one aggregation packet)",
               [](Settings& s) -> std::uint32_t& { return s.fabric.slot_bytes; }),
      u32_knob("INCA_WINDOW", "slots a tree takes = aggregation chunks in flight per host",
               [](Settings& s) -> std::uint32_t& { return s.fabric.window; }),
      u32_knob(
          "INCA_HIERARCHICAL_GROUP",
          "ranks per host group of the hierarchical all-reduce (0: the hosts of one leaf switch)",
          [](Settings& s) -> std::uint32_t& { return s.fabric.hierarchical_group; }, true),
      double_knob(
          "INCA_HOST_REDUCE_GBPS", "host reduction speed in the simulator in Gb/s (0: free)",
          [](Settings& s) -> double& { return s.fabric.host_reduce_gbps; }, true),
      time_knob(
          "INCA_SEND_OVERHEAD_NS", "host cost of posting one message in ns (LogGP o)",
          [](Settings& s) -> Time& { return s.fabric.host_send_overhead; }, ns),
      time_knob(
          "INCA_RECV_OVERHEAD_NS", "host cost of taking one message in, in ns (LogGP o)",
          [](Settings& s) -> Time& { return s.fabric.host_recv_overhead; }, ns),
      time_knob(
          "INCA_GAP_NS", "least time between one host's messages in ns (LogGP g)",
          [](Settings& s) -> Time& { return s.fabric.host_gap; }, ns),
      time_knob(
          "INCA_SWITCH_LATENCY_NS", "forwarding latency of every switch in ns",
          [](Settings& s) -> Time& { return s.fabric.switch_forwarding_latency; }, ns),
      time_knob(
          "INCA_AGGREGATION_LATENCY_NS", "ALU latency per contribution of every switch in ns",
          [](Settings& s) -> Time& { return s.fabric.switch_aggregation_latency; }, ns),
      double_knob(
          "INCA_AGGREGATION_GBPS", "ALU payload rate of every switch in Gb/s (0: unlimited)",
          [](Settings& s) -> double& { return s.fabric.switch_aggregation_gbps; }, true),
      string_knob("INCA_FABRIC_FILE", "a fabric file (YAML) to run on instead of the built-in one",
                  [](Settings& s) -> std::string& { return s.fabric.fabric_file; }),
      string_knob("INCA_PRESET", "a preset fabric: presets/<name>.yaml",
                  [](Settings& s) -> std::string& { return s.fabric.preset; }),
      bool_knob("INCA_TIMING_ONLY", "payload-free mode: sizes and times only, no data (0/1)",
                [](Settings& s) -> bool& { return s.fabric.timing_only; }),
      enum_knob<SimMode>(
          "INCA_SIM_MODE",
          "simulator granularity: packet, or segment (coarse, payload-free runs; docs/model.md)",
          [](Settings& s) -> SimMode& { return s.fabric.sim_mode; }, parse_sim_mode,
          "packet, segment"),
      u32_knob("INCA_SEGMENT_PACKETS", "wire packets per segment in sim mode segment",
               [](Settings& s) -> std::uint32_t& { return s.fabric.segment_packets; }),
      u32_knob("INCA_P2P_SEGMENT_PACKETS",
               "wire packets per point-to-point segment in sim mode segment",
               [](Settings& s) -> std::uint32_t& { return s.fabric.p2p_segment_packets; }),
      time_knob(
          "INCA_RETRANSMIT_TIMEOUT_US", "first retransmission timeout in us",
          [](Settings& s) -> Time& { return s.fabric.retransmit_timeout; }, us),
      bool_knob("INCA_ADAPTIVE_TIMEOUT", "adapt the retransmission timeout to round trips (0/1)",
                [](Settings& s) -> bool& { return s.fabric.recovery.adaptive_timeout; }),
      time_knob(
          "INCA_MIN_TIMEOUT_US", "floor of the adaptive timeout in us (0: 5 on sim, 1000 on live)",
          [](Settings& s) -> Time& { return s.fabric.recovery.min_timeout; }, us),
      u32_knob(
          "INCA_MAX_BACKOFF_SHIFT", "the timeout doubles at most this many times",
          [](Settings& s) -> std::uint32_t& { return s.fabric.recovery.max_backoff_shift; }, true),
      time_knob(
          "INCA_FAILURE_TIMEOUT_US",
          "fail an operation unanswered this long, in us (0: 100000 on sim, 5000000 on live)",
          [](Settings& s) -> Time& { return s.fabric.recovery.failure_timeout; }, us),
      u32_knob("INCA_MAX_RETRANSMITS", "... or after this many retransmissions of one packet",
               [](Settings& s) -> std::uint32_t& { return s.fabric.recovery.max_retransmits; }),
      u32_knob(
          "INCA_EAGER_BYTES",
          "point-to-point sends up to this size complete when sent (MPI's eager protocol)",
          [](Settings& s) -> std::uint32_t& { return s.fabric.recovery.eager_bytes; }, true),
      enum_knob<SwitchFailurePolicy>(
          "INCA_ON_SWITCH_FAILURE", "when a tree's switch dies: reform, fallback or error",
          [](Settings& s) -> SwitchFailurePolicy& { return s.fabric.recovery.on_switch_failure; },
          parse_switch_failure_policy, "reform, fallback, error"),
      u32_knob(
          "INCA_MAX_RERUNS", "re-runs of a failed collective before its error is returned",
          [](Settings& s) -> std::uint32_t& { return s.fabric.recovery.max_reruns; }, true),
      time_knob(
          "INCA_AGREEMENT_TIMEOUT_US",
          "how long ranks wait for each other's outcome of a failure, in us (0: 2 x failure)",
          [](Settings& s) -> Time& { return s.fabric.recovery.agreement_timeout; }, us),
      {"INCA_ALGORITHM", "all-reduce algorithm: auto, innet, ring, ... (a registered name)",
       [](const Settings& s) { return s.call.algorithm; },
       [](Settings& s, std::string_view text) -> std::string {
         if (text.empty()) return "empty algorithm name";
         s.call.algorithm = std::string(text);
         return "";
       }},
      bool_knob("INCA_REPRODUCIBLE",
                "reduce in a fixed order: bit-identical results across runs (0/1)",
                [](Settings& s) -> bool& { return s.call.reproducible; }),
  };
  return table;
}

// Sets one knob from text; a knob that describes the fabric also overrides
// a fabric file's value (file_overrides).
Status set_knob(const Knob& knob, Settings& s, std::string_view text) {
  std::string why = knob.set(s, text);
  if (!why.empty())
    return make_error(StatusCode::config_error,
                      fmt::format("{}='{}': {} ({})", knob.env, text, why, knob.doc));
  if (auto it = file_overrides().find(knob.env); it != file_overrides().end()) it->second(s.fabric);
  return {};
}

}  // namespace

Status apply_env_overrides(FabricOptions& fabric, AllreduceOptions* call) {
  Settings s{fabric, call ? *call : AllreduceOptions{}};
  for (const Knob& knob : knobs()) {
    const char* text = std::getenv(knob.env);
    if (!text) continue;
    INCA_RETURN_IF_ERROR(set_knob(knob, s, text));
  }
  fabric = s.fabric;
  if (call) *call = s.call;
  return {};
}

Status apply_knob(FabricOptions& fabric, AllreduceOptions* call, std::string_view env,
                  std::string_view text) {
  for (const Knob& knob : knobs()) {
    if (env != knob.env) continue;
    const AllreduceOptions before = call ? *call : AllreduceOptions{};
    Settings s{fabric, before};
    INCA_RETURN_IF_ERROR(set_knob(knob, s, text));
    const bool call_changed =
        s.call.algorithm != before.algorithm || s.call.reproducible != before.reproducible;
    if (!call && call_changed)
      return make_error(StatusCode::invalid_argument,
                        fmt::format("{} sets collective calls, not a fabric", env));
    fabric = s.fabric;
    if (call) *call = s.call;
    return {};
  }
  return make_error(StatusCode::invalid_argument, fmt::format("no knob is called {}", env));
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
