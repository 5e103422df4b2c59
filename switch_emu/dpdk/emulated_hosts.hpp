// The addresses of emulated hosts and switch ports, for the programs that
// play hosts in front of a SwitchPipeline (the benchmarks, the fuzzer, the
// tests): locally administered MACs, and host i at <subnet>.(i + 1) with a
// RoCEv2-style UDP source port.
#pragma once

#include <cstdint>

#include "dpdk/frame.hpp"

namespace inca::dpdk_switch {

/// The MAC of switch port `port`.
inline MacAddress emulated_port_mac(std::uint32_t port) {
  return {0x02, 0x5e, 0, 0, 0, static_cast<std::uint8_t>(port)};
}

/// Host `index` of the /24 `subnet` (its first three bytes, e.g. 0x0a5b00).
inline UdpEndpoint emulated_host(std::uint32_t subnet, std::uint32_t index) {
  return {{0x02, 0x11, 0, 0, 0, static_cast<std::uint8_t>(index + 1)},
          (subnet << 8) + index + 1,
          static_cast<std::uint16_t>(0xc000 + index)};
}

}  // namespace inca::dpdk_switch
