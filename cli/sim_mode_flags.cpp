#include "sim_mode_flags.hpp"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "inca/knobs.hpp"

namespace inca::cli {
namespace {

Status bad(const std::string& message) {
  return make_error(StatusCode::invalid_argument, message);
}

}  // namespace

Status apply_sim_mode_knobs(FabricOptions& fabric) {
  for (const char* knob : {"INCA_SIM_MODE", "INCA_SEGMENT_PACKETS", "INCA_P2P_SEGMENT_PACKETS"})
    if (const char* text = std::getenv(knob))
      INCA_RETURN_IF_ERROR(apply_knob(fabric, nullptr, knob, text));
  return {};
}

void add_sim_mode_flags(CLI::App& cmd, SimModeFlags& f, FabricOptions& fabric, bool analytic) {
  f.sim_mode = std::string(to_string(fabric.sim_mode));
  f.offers_analytic = analytic;
  cmd.add_option("--payload", f.payload,
                 "Carry data: auto (when it fits in memory), on, off (timing only)")
      ->capture_default_str();
  cmd.add_option("--sim-mode", f.sim_mode,
                 std::string("Simulator granularity: packet (every wire packet), or segment "
                             "(coarse: payload-free runs move segments of --segment-packets wire "
                             "packets; error in docs/model.md)") +
                     (analytic ? ", or analytic (nothing simulated: each row is the cost "
                                 "model's time, for planning at scales the simulator takes "
                                 "long to reach; its error in docs/model.md)"
                               : ""))
      ->capture_default_str();
  cmd.add_option("--segment-packets", fabric.segment_packets,
                 "Wire packets per segment with --sim-mode segment (2..1024)")
      ->capture_default_str();
  cmd.add_option("--p2p-segment-packets", fabric.p2p_segment_packets,
                 "Wire packets per point-to-point segment with --sim-mode segment (1..1024; "
                 "at most --segment-packets)")
      ->capture_default_str();
}

Result<PayloadMode> apply_sim_mode_flags(const SimModeFlags& f, FabricOptions& fabric) {
  PayloadMode payload;
  if (f.payload == "auto")
    payload = PayloadMode::automatic;
  else if (f.payload == "on")
    payload = PayloadMode::on;
  else if (f.payload == "off")
    payload = PayloadMode::off;
  else
    return bad("--payload must be auto, on or off");
  const bool live = fabric.fabric == FabricKind::live;
  if (live && payload == PayloadMode::off)
    return bad(
        "--payload off is not meaningful on the live fabric: its wall-clock time "
        "includes moving and reducing the data");
  if (live) payload = PayloadMode::on;
  if (f.analytic()) {
    if (!f.offers_analytic)
      return bad(
          "--sim-mode analytic is for inca bench: jobs that share a fabric need a simulation "
          "(the cost model prices one collective alone)");
    if (live) return bad("--sim-mode analytic needs the sim fabric (it runs nothing)");
    if (payload == PayloadMode::on)
      return bad(
          "--sim-mode analytic runs nothing, so it carries and checks no data: drop "
          "--payload on");
    fabric.sim_mode = SimMode::packet;
    return PayloadMode::off;
  }
  auto mode = parse_sim_mode(f.sim_mode);
  if (!mode)
    return bad("unknown --sim-mode '" + f.sim_mode + "' (packet, segment" +
               (f.offers_analytic ? ", analytic)" : ")"));
  fabric.sim_mode = *mode;
  if (fabric.sim_mode == SimMode::segment && (live || payload == PayloadMode::on))
    return bad(
        "--sim-mode segment simulates payload-free runs: it needs the sim fabric and "
        "--payload off or auto");
  if (fabric.sim_mode == SimMode::segment &&
      (fabric.segment_packets < 2 || fabric.segment_packets > 1024))
    return bad(fmt::format("--segment-packets {} is outside 2..1024", fabric.segment_packets));
  if (fabric.sim_mode == SimMode::segment &&
      (fabric.p2p_segment_packets < 1 || fabric.p2p_segment_packets > 1024))
    return bad(
        fmt::format("--p2p-segment-packets {} is outside 1..1024", fabric.p2p_segment_packets));
  return payload;
}

std::string describe_sim_mode(const FabricOptions& fabric, std::string_view units) {
  if (fabric.sim_mode == SimMode::packet) return "model: packet (every wire packet simulated)";
  return fmt::format(
      "model: segment (coarse): payload-free {} move segments of up to {} wire packets ({} "
      "point to point), pipelined across hops; error against packet mode in docs/model.md "
      "(large where an in-network tree shares a port with other traffic); {} that carried data "
      "say model packet",
      units, fabric.segment_packets, std::min(fabric.p2p_segment_packets, fabric.segment_packets),
      units);
}

}  // namespace inca::cli
