// Building RoCEv2 frames in tests: hex vectors, the headers of the requests
// inca-switch takes, and repairs after a deliberate change (lengths, the IPv4
// checksum, the ICRC), so that a test breaks exactly the check it means to.
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dpdk/frame.hpp"
#include "dpdk/roce_frame.hpp"

namespace inca::test {

using dpdk_switch::RoceHeaders;

/// Bytes from hexadecimal digits; spaces are ignored.
inline std::vector<std::byte> from_hex(std::string_view hex) {
  std::vector<std::byte> out;
  int high = -1;
  for (char c : hex) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    const int v =
        std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::byte>(high * 16 + v));
      high = -1;
    }
  }
  return out;
}

inline const dpdk_switch::UdpEndpoint kRoceHost{{0x02, 0x11, 0, 0, 0, 1}, 0x0a5a0001, 0xc001};
inline const dpdk_switch::UdpEndpoint kRoceSwitch{{0x02, 0x5e, 0, 0, 0, 0}, 0x0a5a00fe, 4791};

/// A request from kRoceHost to kRoceSwitch without extension headers.
inline RoceHeaders roce_headers(std::uint8_t opcode, std::uint32_t dest_qp, std::uint32_t psn) {
  RoceHeaders h;
  h.src = kRoceHost;
  h.dst = kRoceSwitch;
  h.opcode = opcode;
  h.dest_qp = dest_qp;
  h.psn = psn;
  return h;
}

/// A UC RDMA WRITE_ONLY with immediate from kRoceHost to kRoceSwitch.
inline RoceHeaders write_imm_headers(std::uint32_t dest_qp, std::uint32_t psn, std::uint32_t rkey,
                                     std::uint32_t immediate) {
  RoceHeaders h = roce_headers(dpdk_switch::roce_opcode::kUcRdmaWriteOnlyImm, dest_qp, psn);
  h.reth = dpdk_switch::Reth{0, rkey, 0};
  h.immediate = immediate;
  return h;
}

/// A UC SEND_ONLY from kRoceHost to kRoceSwitch.
inline RoceHeaders send_only_headers(std::uint32_t dest_qp, std::uint32_t psn) {
  return roce_headers(dpdk_switch::roce_opcode::kUcSendOnly, dest_qp, psn);
}

/// The whole frame write_roce_frame builds around `payload`.
inline std::vector<std::byte> roce_frame(const RoceHeaders& h, std::span<const std::byte> payload) {
  std::vector<std::byte> head(dpdk_switch::kRoceWriteImmHeadBytes);
  std::vector<std::byte> tail(dpdk_switch::kRoceMaxTailBytes);
  const auto sizes = dpdk_switch::write_roce_frame(head, tail, h, payload);
  std::vector<std::byte> frame(head.begin(),
                               head.begin() + static_cast<std::ptrdiff_t>(sizes.head));
  frame.insert(frame.end(), payload.begin(), payload.end());
  frame.insert(frame.end(), tail.begin(), tail.begin() + static_cast<std::ptrdiff_t>(sizes.tail));
  return frame;
}

/// Makes the IPv4 total length, its checksum and the UDP length fit the
/// frame's size again (an IPv4 header without options).
inline void fix_lengths(std::vector<std::byte>& frame) {
  using namespace dpdk_switch;
  if (frame.size() < kUdpFrameHeadBytes) return;
  const std::size_t ip = kEthernetHeaderBytes;
  const std::size_t total = frame.size() - ip;
  frame[ip + 2] = static_cast<std::byte>(total >> 8);
  frame[ip + 3] = static_cast<std::byte>(total);
  frame[ip + 10] = frame[ip + 11] = std::byte{0};
  const std::uint16_t sum = internet_checksum(std::span(frame).subspan(ip, kIpv4HeaderBytes));
  frame[ip + 10] = static_cast<std::byte>(sum >> 8);
  frame[ip + 11] = static_cast<std::byte>(sum);
  const std::size_t udp = total - kIpv4HeaderBytes;
  frame[ip + kIpv4HeaderBytes + 4] = static_cast<std::byte>(udp >> 8);
  frame[ip + kIpv4HeaderBytes + 5] = static_cast<std::byte>(udp);
}

/// Recomputes the ICRC in the frame's last 4 bytes.
inline void refresh_icrc(std::vector<std::byte>& frame) {
  using namespace dpdk_switch;
  const auto ip = std::span<const std::byte>(frame).subspan(kEthernetHeaderBytes);
  const std::uint32_t crc = roce_icrc(ip.first(ip.size() - kIcrcBytes));
  for (std::size_t i = 0; i < kIcrcBytes; ++i)
    frame[frame.size() - kIcrcBytes + i] = static_cast<std::byte>(crc >> (8 * i));
}

}  // namespace inca::test
