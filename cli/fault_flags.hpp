// The fault-injection and recovery flags of `inca bench` (--drop, --dup,
// --reorder, --corrupt, --seed, --link-down, --kill-switch,
// --on-switch-failure, ...), turned into FabricOptions::faults and ::recovery.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "inca/status.hpp"
#include "inca/world.hpp"

namespace inca::cli {

struct FaultFlags {
  double drop = 0;
  double duplicate = 0;
  double reorder = 0;
  std::string reorder_delay = "20us";
  double corrupt = 0;
  std::uint64_t seed = 1;
  std::vector<std::string> faulty_nodes;  ///< the probabilities apply to these nodes' links only
  std::vector<std::string> link_down;     ///< "A-B@T" or "A-B@T1-T2" (up again at T2)
  std::vector<std::string> kill_switch;   ///< "NAME@T" or "NAME@T1-T2" (restarts empty at T2)
  std::string on_switch_failure;          ///< "": keep the options' (default reform, or INCA_*)
  std::string retransmit_timeout;         ///< first retransmission timeout, e.g. "50us"
  std::string failure_timeout;            ///< give up on an unanswered chunk or message after this
  bool fixed_timeout = false;             ///< no adaptive timeout
};

/// Registers the flags on the bench subcommand.
void add_fault_flags(CLI::App& cmd, FaultFlags& flags);
/// Applies them; invalid_argument naming the flag on a bad value.
Status apply_fault_flags(const FaultFlags& flags, FabricOptions& fabric);

/// Parses "300ns", "20us", "2ms", "1.5s" into picoseconds; nullopt otherwise.
std::optional<Time> parse_time(const std::string& text);

}  // namespace inca::cli
