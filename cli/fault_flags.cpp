#include "fault_flags.hpp"

#include <cmath>

#include <fmt/format.h>

namespace inca::cli {
namespace {

Status bad(const std::string& message) {
  return make_error(StatusCode::invalid_argument, message);
}

// "T" or "T1-T2" after the '@' of a --link-down or --kill-switch value.
Status parse_window(const std::string& flag, const std::string& value, Time& down, Time& up) {
  const std::size_t at = value.rfind('@');
  if (at == std::string::npos)
    return bad(fmt::format("{} '{}': expected NAME@TIME or NAME@TIME-TIME", flag, value));
  const std::string when = value.substr(at + 1);
  // The '-' of a window follows a unit letter; one inside a number would be a sign.
  std::size_t dash = std::string::npos;
  for (std::size_t i = 1; i < when.size(); ++i)
    if (when[i] == '-' && std::isalpha(static_cast<unsigned char>(when[i - 1]))) dash = i;
  auto from = parse_time(when.substr(0, dash));
  if (!from) return bad(fmt::format("{} '{}': '{}' is not a time (e.g. 2ms)", flag, value, when));
  down = *from;
  up = kNever;
  if (dash != std::string::npos) {
    auto to = parse_time(when.substr(dash + 1));
    if (!to) return bad(fmt::format("{} '{}': bad end time", flag, value));
    up = *to;
  }
  return {};
}

}  // namespace

std::optional<Time> parse_time(const std::string& text) {
  std::size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (...) {
    return std::nullopt;
  }
  const std::string unit = text.substr(pos);
  double scale = 0;
  if (unit == "ns")
    scale = kPicosPerNano;
  else if (unit == "us")
    scale = kPicosPerMicro;
  else if (unit == "ms")
    scale = kPicosPerMilli;
  else if (unit == "s")
    scale = kPicosPerSecond;
  if (scale == 0 || !(value >= 0) || !std::isfinite(value) || value * scale > 9e18)
    return std::nullopt;
  return static_cast<Time>(std::llround(value * scale));
}

void add_fault_flags(CLI::App& cmd, FaultFlags& f) {
  const char* group = "Faults and recovery (docs/reliability.md)";
  cmd.add_option("--drop", f.drop, "Probability that a link loses a packet")->group(group);
  cmd.add_option("--dup", f.duplicate, "Probability that a link duplicates a packet")->group(group);
  cmd.add_option("--reorder", f.reorder, "Probability that a link holds a packet back")
      ->group(group);
  cmd.add_option("--reorder-delay", f.reorder_delay, "Largest extra delay of a held packet")
      ->capture_default_str()
      ->group(group);
  cmd.add_option("--corrupt", f.corrupt,
                 "Probability that a link flips 1-3 bits of a packet (the CRC drops it)")
      ->group(group);
  cmd.add_option("--seed", f.seed, "Seed of the fault generators (one stream per link)")
      ->capture_default_str()
      ->group(group);
  cmd.add_option("--faulty-node", f.faulty_nodes,
                 "Apply the probabilities only to the links of this node (repeatable)")
      ->group(group);
  cmd.add_option("--link-down", f.link_down,
                 "A link down from a time, optionally up again: leaf0-spine1@2ms[-5ms]")
      ->group(group);
  cmd.add_option("--kill-switch", f.kill_switch,
                 "A switch dies at a time, optionally restarting empty: spine1@2ms[-50ms]")
      ->group(group);
  cmd.add_option("--on-switch-failure", f.on_switch_failure,
                 "reform (new tree, re-run in-network; the default) | fallback (re-run with ring) "
                 "| error")
      ->group(group);
  cmd.add_option("--retransmit-timeout", f.retransmit_timeout,
                 "First retransmission timeout (default 10ms; adaptive after that)")
      ->group(group);
  cmd.add_option("--failure-timeout", f.failure_timeout,
                 "Fail a chunk or message unanswered this long (default 100ms on sim)")
      ->group(group);
  cmd.add_flag("--fixed-timeout", f.fixed_timeout, "Do not adapt the timeout to round trips")
      ->group(group);
}

Status apply_fault_flags(const FaultFlags& f, FabricOptions& o) {
  FaultPlan& plan = o.faults;
  plan.seed = f.seed;
  LinkFaults faults;
  faults.drop = f.drop;
  faults.duplicate = f.duplicate;
  faults.reorder = f.reorder;
  faults.corrupt = f.corrupt;
  auto delay = parse_time(f.reorder_delay);
  if (!delay) return bad("--reorder-delay '" + f.reorder_delay + "' is not a time (e.g. 20us)");
  faults.reorder_delay = *delay;
  if (f.faulty_nodes.empty())
    plan.every_link = faults;
  else
    for (const std::string& node : f.faulty_nodes) plan.nodes.push_back({node, faults});
  for (const std::string& value : f.link_down) {
    LinkOutage outage;
    INCA_RETURN_IF_ERROR(parse_window("--link-down", value, outage.down_at, outage.up_at));
    const std::string ends = value.substr(0, value.rfind('@'));
    const std::size_t dash = ends.find('-');
    if (dash == std::string::npos)
      return bad("--link-down '" + value + "': name the link as NODE-NODE (e.g. leaf0-spine1)");
    outage.a = ends.substr(0, dash);
    outage.b = ends.substr(dash + 1);
    plan.link_outages.push_back(outage);
  }
  for (const std::string& value : f.kill_switch) {
    SwitchOutage outage;
    INCA_RETURN_IF_ERROR(parse_window("--kill-switch", value, outage.down_at, outage.up_at));
    outage.name = value.substr(0, value.rfind('@'));
    plan.switch_outages.push_back(outage);
  }
  if (!f.on_switch_failure.empty()) {
    auto policy = parse_switch_failure_policy(f.on_switch_failure);
    if (!policy)
      return bad("--on-switch-failure '" + f.on_switch_failure + "' (reform, fallback, error)");
    o.recovery.on_switch_failure = *policy;
  }
  if (!f.retransmit_timeout.empty()) {
    auto t = parse_time(f.retransmit_timeout);
    if (!t || *t == 0) return bad("--retransmit-timeout '" + f.retransmit_timeout + "'");
    o.retransmit_timeout = *t;
  }
  if (!f.failure_timeout.empty()) {
    auto t = parse_time(f.failure_timeout);
    if (!t || *t == 0) return bad("--failure-timeout '" + f.failure_timeout + "'");
    o.recovery.failure_timeout = *t;
  }
  if (f.fixed_timeout) o.recovery.adaptive_timeout = false;
  return {};
}

}  // namespace inca::cli
