// Building whole Ethernet/IPv4/UDP frames in tests, for code that takes
// frames (inca-switch's pipeline, its af_packet ports).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

#include "dpdk/frame.hpp"

namespace inca::test {

/// A frame from `src` to `dst` carrying `body` as its UDP payload.
inline std::vector<std::byte> udp_frame(const dpdk_switch::UdpEndpoint& src,
                                        const dpdk_switch::UdpEndpoint& dst,
                                        std::span<const std::byte> body) {
  std::vector<std::byte> f(dpdk_switch::kUdpFrameHeadBytes + body.size());
  EXPECT_EQ(dpdk_switch::write_udp_head(f, src, dst, body.size()), dpdk_switch::kUdpFrameHeadBytes);
  std::memcpy(f.data() + dpdk_switch::kUdpFrameHeadBytes, body.data(), body.size());
  return f;
}

}  // namespace inca::test
