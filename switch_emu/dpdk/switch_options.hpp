// The switch's own command line (everything after "--"; the EAL parses the
// rest).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "wire/header.hpp"

namespace inca::dpdk_switch {

struct SwitchOptions {
  std::string name = "inca-switch";
  std::string ip = "10.0.0.254";  ///< answered in ARP; source of every inca packet sent
  std::uint16_t udp_port = wire::kDefaultUdpPort;
  double port_gbps = 0;  ///< egress rate limit of every port; 0 = unlimited
  /// Depth of the rate limiter's token bucket in microseconds of line rate:
  /// how long a burst may run at full speed after a pause. A process that is
  /// descheduled for longer than this loses that link time for good.
  double port_burst_us = 20000;
  std::uint32_t slots = 512;
  std::uint32_t slot_bytes = 1024;
  std::string control;        ///< ADDR:PORT of the control channel; empty = none
  std::string pcap;           ///< pcapng file; empty = no capture
  double stats_interval = 0;  ///< seconds between counter reports; 0 = only on SIGUSR1/exit
  bool verify_ip_checksum = true;
  std::uint32_t idle_sleep_us = 50;  ///< sleep after a long run of empty polls; 0 = spin
  bool roce = true;                  ///< RoCEv2 queue pairs (docs/verbs.md)
  std::uint32_t roce_qps = 4096;
  std::uint32_t roce_dscp = 26;

  /// The largest frame the switch builds: a RoCEv2 result (its headers, the
  /// inca header, a slot's payload, pad and ICRC).
  std::uint32_t max_frame() const;
};

struct ParsedSwitchOptions {
  SwitchOptions options;
  std::optional<int> exit_code;  ///< set after --help (0) or a usage error
};

/// Parses the switch arguments; argv[0] is the program name.
ParsedSwitchOptions parse_switch_options(int argc, char** argv);

}  // namespace inca::dpdk_switch
