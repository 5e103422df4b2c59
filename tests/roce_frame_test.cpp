// The RoCEv2 codec of inca-switch against frames it did not build: the CNP
// that scapy's test suite captured from a ConnectX-4 Lx (secdev/scapy,
// test/contrib/roce.uts, "RoCE CNP captured on ConnectX-4 Lx": ICRC bytes
// 82 fd 00 2a), and scapy's UC SEND_ONLY example of the same file (ICRC
// 78 f3 53 f3, bytes as scapy 2.5 builds them from the fields listed there).
// Then the masking rules, round trips of the frames the switch writes, and
// every refusal.
#include "dpdk/roce_frame.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "support/roce_frames.hpp"

namespace inca::dpdk_switch {
namespace {

using test::from_hex;

// Ethernet, IPv4 (TOS 0xc2: DSCP 48 with ECN CE, TTL 64), UDP (source port
// 0, checksum 0), BTH (opcode 0x81, BECN set, destination QP 0x118), 16
// reserved bytes and the ICRC.
const char* const kConnectX4LxCnp =  // the hexdump in roce.uts, offsets 0x00..0x49
    "e41d 2dab 2bc2 7cfe 9064 3b32 0800 45c2"
    "003c 718c 4000 4011 9161 0a00 1101 0a00"
    "1201 0000 12b7 0028 0000 8100 ffff 4000"
    "0118 0000 0000 0000 0000 0000 0000 0000"
    "0000 0000 0000 82fd 002a";

const char* const kScapyUcSendOnly =
    "248a07a8fa22248a07a8fa22080045010040047840004011b4d5c0a80007c0a80007"
    "c00012b7002caca2"
    "2460ffff000000d300cf1710"
    "4630818be28935d90e9a95505401be885e500000"
    "78f353f3";

ParsedFrame parsed(const std::vector<std::byte>& frame) {
  ParsedFrame f;
  EXPECT_EQ(parse_frame(frame, f), FrameError::none);
  return f;
}

std::span<const std::byte> ip_without_icrc(const ParsedFrame& f) {
  return {f.ipv4_header.data(), f.ip_total_length - kIcrcBytes};
}

TEST(RoceFrame, CapturedConnectX4LxCnpIcrcMatchesByteForByte) {
  const auto frame = from_hex(kConnectX4LxCnp);
  ASSERT_EQ(frame.size(), 74u);
  const ParsedFrame f = parsed(frame);
  const std::uint32_t icrc = roce_icrc(ip_without_icrc(f));
  // Written least significant byte first: 82 fd 00 2a.
  EXPECT_EQ(icrc, 0x2a00fd82u);
  const auto tail = std::span(frame).last(4);
  EXPECT_EQ(tail[0], std::byte{0x82});
  EXPECT_EQ(tail[1], std::byte{0xfd});
  EXPECT_EQ(tail[2], std::byte{0x00});
  EXPECT_EQ(tail[3], std::byte{0x2a});

  RocePacket p;
  ASSERT_EQ(parse_roce(f, p), RoceError::none);
  EXPECT_EQ(p.opcode, roce_opcode::kCnp);
  EXPECT_TRUE(p.becn);
  EXPECT_FALSE(p.fecn);
  EXPECT_EQ(p.dest_qp, 0x118u);
  EXPECT_EQ(p.psn, 0u);
  EXPECT_EQ(p.pkey, 0xffff);
  EXPECT_EQ(p.payload.size(), 16u);
  EXPECT_EQ(p.icrc, 0x2a00fd82u);
}

TEST(RoceFrame, ScapyUcSendOnlyExampleHasItsIcrcAndPad) {
  const auto frame = from_hex(kScapyUcSendOnly);
  const ParsedFrame f = parsed(frame);
  RocePacket p;
  ASSERT_EQ(parse_roce(f, p), RoceError::none);
  EXPECT_EQ(p.icrc, 0xf353f378u);  // bytes 78 f3 53 f3
  EXPECT_EQ(p.opcode, roce_opcode::kUcSendOnly);
  EXPECT_TRUE(p.migreq);
  EXPECT_EQ(p.pad_count, 2);
  EXPECT_EQ(p.dest_qp, 211u);
  EXPECT_EQ(p.psn, 13571856u);
  EXPECT_EQ(p.payload.size(), 18u);  // 20 bytes after the BTH, 2 of them pad
}

// Every field the recipe masks may change on the way (routers rewrite TOS,
// TTL and the checksum; NICs set FECN/BECN): the ICRC must not notice. Any
// other byte must change it.
TEST(RoceFrame, IcrcCoversExactlyTheInvariantFields) {
  const auto frame = from_hex(kConnectX4LxCnp);
  const std::size_t ip = kEthernetHeaderBytes;
  const std::size_t udp = ip + kIpv4HeaderBytes;
  const std::size_t bth = udp + kUdpHeaderBytes;
  const std::vector<std::size_t> masked = {ip + 1,  ip + 8,  ip + 10, ip + 11,
                                           udp + 6, udp + 7, bth + 4};
  const std::uint32_t want = 0x2a00fd82u;
  for (std::size_t at = ip; at + kIcrcBytes < frame.size(); ++at) {
    auto changed = frame;
    changed[at] ^= std::byte{0x5a};
    ParsedFrame f;
    if (parse_frame(changed, f) != FrameError::none || f.kind != FrameKind::udp) continue;
    const bool is_masked = std::find(masked.begin(), masked.end(), at) != masked.end();
    EXPECT_EQ(roce_icrc(ip_without_icrc(f)) == want, is_masked) << "byte " << at;
  }
}

TEST(RoceFrame, WrittenFramesParseBackForEveryPadLength) {
  for (std::size_t n : {0u, 1u, 2u, 3u, 4u, 5u, 31u, 1027u, 4096u}) {
    std::vector<std::byte> payload(n);
    for (std::size_t i = 0; i < n; ++i) payload[i] = static_cast<std::byte>(i * 7 + 1);
    RoceHeaders h = test::write_imm_headers(0x1234, 0xabcdef, 0x00420007, 77);
    h.reth->dma_length = static_cast<std::uint32_t>(n);
    const auto frame = test::roce_frame(h, payload);
    ASSERT_EQ(frame.size(), kRoceWriteImmHeadBytes + n + (4 - n % 4) % 4 + kIcrcBytes);
    RocePacket p;
    ASSERT_EQ(parse_roce(parsed(frame), p), RoceError::none) << n;
    EXPECT_EQ(p.opcode, roce_opcode::kUcRdmaWriteOnlyImm);
    EXPECT_EQ(p.dest_qp, 0x1234u);
    EXPECT_EQ(p.psn, 0xabcdefu);
    EXPECT_EQ(p.pad_count, (4 - n % 4) % 4);
    ASSERT_TRUE(p.reth && p.immediate);
    EXPECT_EQ(p.reth->rkey, 0x00420007u);
    EXPECT_EQ(p.reth->dma_length, n);
    EXPECT_EQ(*p.immediate, 77u);
    ASSERT_EQ(p.payload.size(), n);
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), p.payload.begin()));

    auto corrupted = frame;
    corrupted[kRoceWriteImmHeadBytes - 1] ^= std::byte{1};  // the immediate
    EXPECT_EQ(parse_roce(parsed(corrupted), p), RoceError::bad_icrc) << n;
  }
}

TEST(RoceFrame, RefusesWhatItCannotTrust) {
  RocePacket p;
  const auto good =
      test::roce_frame(test::write_imm_headers(9, 1, 2, 3), std::vector<std::byte>(8));
  // The ICRC is recomputed after each change, so only the check named fails.
  auto version = good;
  version[kUdpFrameHeadBytes + 1] |= std::byte{0x01};
  test::refresh_icrc(version);
  EXPECT_EQ(parse_roce(parsed(version), p), RoceError::bad_version);
  auto reliable_datagram = good;
  reliable_datagram[kUdpFrameHeadBytes] = std::byte{0x4b};  // RD: needs an RDETH
  test::refresh_icrc(reliable_datagram);
  EXPECT_EQ(parse_roce(parsed(reliable_datagram), p), RoceError::unknown_opcode);
  auto pad = test::roce_frame(test::send_only_headers(9, 1), {});
  pad[kUdpFrameHeadBytes + 1] |= std::byte{0x30};  // 3 pad bytes, no payload
  test::refresh_icrc(pad);
  EXPECT_EQ(parse_roce(parsed(pad), p), RoceError::bad_pad);
  // A SEND_ONLY cut right after its BTH still holds an ICRC; a WRITE whose
  // RETH is cut does not hold its extension headers.
  auto cut = good;
  cut.resize(kUdpFrameHeadBytes + kBthBytes + 8 + kIcrcBytes);
  test::fix_lengths(cut);
  test::refresh_icrc(cut);
  EXPECT_EQ(parse_roce(parsed(cut), p), RoceError::truncated);
}

TEST(RoceFrame, EveryTruncationIsRefusedWithoutReadingPastTheFrame) {
  const auto good =
      test::roce_frame(test::write_imm_headers(9, 1, 2, 3), std::vector<std::byte>(40));
  for (std::size_t n = 0; n < good.size(); ++n) {
    std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    test::fix_lengths(cut);
    ParsedFrame f;
    RocePacket p;
    if (parse_frame(cut, f) == FrameError::none && f.kind == FrameKind::udp) {
      EXPECT_NE(parse_roce(f, p), RoceError::none) << n;
    }
  }
}

TEST(RoceFrame, PsnDistanceWrapsAt24Bits) {
  EXPECT_EQ(psn_distance(5, 5), 0);
  EXPECT_EQ(psn_distance(6, 5), 1);
  EXPECT_EQ(psn_distance(4, 5), -1);
  EXPECT_EQ(psn_distance(0, 0xffffff), 1);
  EXPECT_EQ(psn_distance(0xffffff, 0), -1);
  EXPECT_EQ(psn_distance(0x7fffff, 0), 0x7fffff);
  EXPECT_EQ(psn_distance(0x800000, 0), -0x800000);
}

}  // namespace
}  // namespace inca::dpdk_switch
