// Choosing the RoCEv2 port and GID from what discovery found: the first
// active Ethernet port with a RoCEv2 IPv4 GID, as selected by
// INCA_VERBS_DEVICE and the rank's address; otherwise not_supported listing
// what exists.
#include "verbs_transport/roce_address.hpp"

#include <gtest/gtest.h>

namespace inca::verbs {
namespace {

GidEntry gid(std::uint32_t index, GidType type, std::uint32_t ipv4) {
  GidEntry g;
  g.index = index;
  g.type = type;
  g.gid = ipv4 != 0 ? ipv4_gid(ipv4) : std::array<std::uint8_t, 16>{0xfe, 0x80, 0, 0, 0, 0, 0, 0,
                                                                    1,    2,    3, 4, 5, 6, 7, 8};
  g.netdev = "ens1f0";
  g.mac = {0x0c, 0x42, 0xa1, 0, 0, static_cast<std::uint8_t>(index)};
  return g;
}

std::vector<VerbsPort> ports() {
  VerbsPort ib{"mlx5_0", 1, true, false, 4096, 200, {gid(0, GidType::ib, 0)}};
  VerbsPort down{"mlx5_1", 1, false, true, 1024, 0, {gid(3, GidType::roce_v2, 0x0a000101)}};
  VerbsPort roce{"mlx5_2",
                 1,
                 true,
                 true,
                 1024,
                 100,
                 {gid(0, GidType::roce_v1, 0), gid(1, GidType::roce_v2, 0),
                  gid(2, GidType::roce_v1, 0x0a000201), gid(3, GidType::roce_v2, 0x0a000201),
                  gid(4, GidType::roce_v2, 0x0a000202)}};
  return {ib, down, roce};
}

TEST(RoceAddress, PicksTheFirstActiveRoceV2IpGid) {
  auto a = choose_roce_v2(ports(), {}, 0);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(a->device, "mlx5_2");
  EXPECT_EQ(a->gid_index, 3u);  // not the RoCEv1 entry of the same address, not link-local
  EXPECT_EQ(a->ipv4, 0x0a000201u);
  EXPECT_EQ(a->mtu, 1024u);
  EXPECT_EQ(a->netdev, "ens1f0");
  auto b = choose_roce_v2(ports(), {}, 0x0a000202);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->gid_index, 4u);
  auto c = choose_roce_v2(ports(), *parse_port_selection("mlx5_2:1:4"), 0);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->gid_index, 4u);
}

TEST(RoceAddress, NothingUsableIsNotSupportedAndSaysWhatExists) {
  auto a = choose_roce_v2(ports(), *parse_port_selection("mlx5_1"), 0);  // down
  EXPECT_EQ(a.status().code(), StatusCode::not_supported);
  EXPECT_NE(a.status().message().find("mlx5_1 port 1: down"), std::string::npos)
      << a.status().message();
  EXPECT_EQ(choose_roce_v2(ports(), {}, 0x0a0009ff).status().code(), StatusCode::not_supported);
  EXPECT_EQ(choose_roce_v2({}, {}, 0).status().code(), StatusCode::not_supported);
}

TEST(RoceAddress, ListsOneAddressPerUsablePort) {
  auto list = ports();
  VerbsPort second = list.back();
  second.device = "mlx5_3";
  second.gids = {gid(7, GidType::roce_v2, 0x0a000301)};
  list.push_back(second);
  const auto found = roce_v2_ports(list, {});
  ASSERT_EQ(found.size(), 2u);  // not the InfiniBand port, not the one that is down
  EXPECT_EQ(found[0].device, "mlx5_2");
  EXPECT_EQ(found[0].gid_index, 3u);
  EXPECT_EQ(found[1].device, "mlx5_3");
  EXPECT_EQ(found[1].ipv4, 0x0a000301u);
  EXPECT_EQ(roce_v2_ports(list, *parse_port_selection("mlx5_3")).size(), 1u);
}

TEST(RoceAddress, SelectionAndGidForms) {
  EXPECT_FALSE(parse_port_selection("").ok());
  EXPECT_FALSE(parse_port_selection("mlx5_0:").ok());
  EXPECT_FALSE(parse_port_selection("mlx5_0:0").ok());
  EXPECT_FALSE(parse_port_selection("mlx5_0:1:x").ok());
  auto s = parse_port_selection("rxe0:1:2");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->device, "rxe0");
  EXPECT_EQ(s->port, 1);
  EXPECT_EQ(s->gid_index, 2u);
  EXPECT_EQ(gid_ipv4(ipv4_gid(0xc0a80001)), 0xc0a80001u);
  EXPECT_FALSE(gid_ipv4(gid(0, GidType::ib, 0).gid).has_value());
}

}  // namespace
}  // namespace inca::verbs
