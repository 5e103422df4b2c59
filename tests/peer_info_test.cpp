// What verbs ranks publish to each other survives the trip, and every
// malformed blob is refused with the reason.
#include "verbs_transport/peer_info.hpp"

#include <gtest/gtest.h>

namespace inca::verbs {
namespace {

PeerInfo sample(std::uint32_t ranks) {
  PeerInfo p;
  for (std::size_t i = 0; i < p.gid.size(); ++i) p.gid[i] = static_cast<std::uint8_t>(i * 17);
  p.ipv4 = 0x0a000001;
  p.mtu = 4096;
  for (std::uint32_t r = 0; r < ranks; ++r) {
    p.rc_qpn.push_back(0x100 + r);
    p.rc_psn.push_back(0xabcd00 + r);
    p.rings.push_back({0x7f0000000000ull + r * 0x1000, 0x4400 + r});
  }
  p.mailbox = {0x7f1122334455ull, 0x99};
  return p;
}

TEST(PeerInfo, RoundTrips) {
  const PeerInfo p = sample(6);
  auto back = decode_peer_info(encode_peer_info(p), 6);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, p);
}

TEST(PeerInfo, RefusesMalformedBlobs) {
  const auto bytes = encode_peer_info(sample(3));
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_EQ(decode_peer_info(std::span(bytes).first(n), 3).status().code(),
              StatusCode::invalid_argument)
        << n;
  auto longer = bytes;
  longer.push_back(std::byte{0});
  EXPECT_FALSE(decode_peer_info(longer, 3).ok());
  EXPECT_FALSE(decode_peer_info(bytes, 4).ok());  // another job size
  auto version = bytes;
  version[0] = std::byte{2};
  EXPECT_NE(decode_peer_info(version, 3).status().message().find("version"), std::string::npos);
}

}  // namespace
}  // namespace inca::verbs
