// The flags that say whether a simulated run carries data and how finely it
// is modelled, shared by `inca bench` and `inca run`: --payload, --sim-mode,
// --segment-packets and --p2p-segment-packets, with the INCA_SIM_MODE,
// INCA_SEGMENT_PACKETS and INCA_P2P_SEGMENT_PACKETS knobs as defaults.
// Segment mode is a timing model (docs/model.md, "Segment mode"): it needs
// the sim fabric and a run that carries no data.
#pragma once

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "bench_sweep.hpp"
#include "inca/status.hpp"
#include "inca/world.hpp"

namespace inca::cli {

/// What the flags hold before they are checked.
struct SimModeFlags {
  std::string payload = "auto";
  std::string sim_mode;  // the fabric's default when registered (INCA_SIM_MODE), or packet
  /// The command takes --sim-mode analytic (`inca bench`): rows from the
  /// cost model alone, nothing simulated.
  bool offers_analytic = false;
  bool analytic() const { return sim_mode == "analytic"; }
};

/// Sets `fabric`'s sim_mode and segment_packets from the INCA_SIM_MODE and
/// INCA_SEGMENT_PACKETS knobs that are set (for commands that take no other
/// knob); config_error naming the variable when one does not parse.
Status apply_sim_mode_knobs(FabricOptions& fabric);

/// Registers --payload, --sim-mode and --segment-packets on `cmd`; `fabric`'s
/// sim_mode and segment_packets are the defaults, and --segment-packets
/// writes into fabric.segment_packets. `analytic`: --sim-mode also takes
/// analytic (flags.offers_analytic).
void add_sim_mode_flags(CLI::App& cmd, SimModeFlags& flags, FabricOptions& fabric,
                        bool analytic = false);

/// Checks the flags: fabric.sim_mode is set and the payload mode returned
/// (live fabrics always carry data). invalid_argument naming the flag on a
/// value that does not parse, --payload off on the live fabric, and segment
/// or analytic mode on the live fabric or with --payload on. Analytic mode
/// runs nothing: the payload is off and fabric.sim_mode packet.
Result<PayloadMode> apply_sim_mode_flags(const SimModeFlags& flags, FabricOptions& fabric);

/// What a report says of its model, one line without a newline: "model:
/// packet (...)" or "model: segment (coarse): payload-free UNITS move ...";
/// `units` names what a report lists ("rows", "runs").
std::string describe_sim_mode(const FabricOptions& fabric, std::string_view units);

}  // namespace inca::cli
