#include "dpdk/switch_options.hpp"

#include <CLI/CLI.hpp>

#include "dpdk/frame.hpp"
#include "dpdk/roce_frame.hpp"
#include "manager/switch_control_client.hpp"
#include "wire/control_codec.hpp"

namespace inca::dpdk_switch {

std::uint32_t SwitchOptions::max_frame() const {
  // A RoCEv2 result has the longer head (BTH, RETH, ImmDt) and a tail (pad, ICRC).
  return static_cast<std::uint32_t>(kRoceWriteImmHeadBytes + wire::kHeaderBytes +
                                    kRoceMaxTailBytes) +
         slot_bytes;
}

ParsedSwitchOptions parse_switch_options(int argc, char** argv) {
  ParsedSwitchOptions parsed;
  SwitchOptions& o = parsed.options;
  CLI::App app{
      "inca-switch: an in-network aggregation switch on DPDK ports.\n"
      "Usage: inca-switch [EAL args] -- [switch args]. Every ethdev the EAL probes is a port,\n"
      "numbered in probe order. Inca packets (Ethernet/IPv4/UDP to --udp-port, or RoCEv2 RDMA\n"
      "WRITEs with immediate to --ip on UDP port 4791) go to the aggregation engine;\n"
      "everything else is switched at layer 2.",
      "inca-switch"};
  app.option_defaults()->always_capture_default();
  app.add_option("--name", o.name, "name in counters, logs and ping replies");
  app.add_option("--ip", o.ip, "the switch's IPv4 address (ARP, source of inca packets)");
  app.add_option("--udp-port", o.udp_port, "UDP port that carries inca packets")
      ->check(CLI::Range(1, 65535));
  app.add_option("--port-gbps", o.port_gbps, "egress rate limit of every port in Gb/s; 0 = none")
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--port-burst-us", o.port_burst_us,
                 "rate limiter bucket depth in microseconds of line rate (bursts after a pause)")
      ->check(CLI::Range(1.0, 1e7));
  app.add_option("--slots", o.slots, "aggregation slot pool size")
      ->check(CLI::Range(1u, wire::kMaxSlot + 1u));
  app.add_option("--slot-bytes", o.slot_bytes, "payload bytes per slot")
      ->check(CLI::Range(8u, static_cast<std::uint32_t>(wire::kMaxPayloadBytes)));
  app.add_option("--control", o.control,
                 "ADDR:PORT of the control channel (port 0: any free port, printed at start)");
  app.add_option("--pcap", o.pcap, "write a pcapng capture of every port's rx and tx");
  app.add_option("--stats-interval", o.stats_interval, "seconds between counter reports; 0 = off")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_flag("--verify-ip-checksum,!--no-verify-ip-checksum", o.verify_ip_checksum,
               "drop inca datagrams whose IPv4 header checksum is wrong");
  app.add_option("--idle-sleep-us", o.idle_sleep_us,
                 "microseconds to sleep when idle (yields the CPU to hosts); 0 = busy-poll")
      ->check(CLI::Range(0u, 100000u));
  app.add_flag("--roce,!--no-roce", o.roce,
               "take RoCEv2 (UDP 4791) to --ip on queue pairs connected over the control channel");
  app.add_option("--roce-qps", o.roce_qps, "RoCEv2 queue pairs the switch keeps at most")
      ->check(CLI::Range(1u, 1u << 20));
  app.add_option("--roce-dscp", o.roce_dscp,
                 "DSCP of the RoCEv2 results the switch sends (they carry ECN ECT(0))")
      ->check(CLI::Range(0u, 63u));
  try {
    app.parse(argc, argv);
    if (o.roce && o.udp_port == kRoceUdpPort)
      throw CLI::ValidationError("--udp-port", "4791 is RoCEv2's port (or pass --no-roce)");
    if (!wire::parse_ipv4(o.ip))
      throw CLI::ValidationError("--ip", o.ip + " is not an IPv4 address");
    if (!o.control.empty()) {
      if (auto a = manager::parse_control_address(o.control); !a)
        throw CLI::ValidationError("--control", a.status().message());
    }
  } catch (const CLI::ParseError& e) {
    parsed.exit_code = app.exit(e);
  }
  return parsed;
}

}  // namespace inca::dpdk_switch
