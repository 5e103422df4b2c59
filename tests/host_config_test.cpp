// The endpoint configuration every fabric derives for a host: its rank and
// address, every rank's address, and what its NIC drains at, which sets how
// long a queued message may take before its timer counts it lost.
#include "host_config.hpp"

#include <gtest/gtest.h>

#include "fabric/fabric_topology.hpp"
#include "inca/fabric_description.hpp"
#include "test_support.hpp"

namespace inca::fabric {
namespace {

// A host counts its outstanding bytes over all its ports together, so it
// drains them at its slowest port's rate: at the NVLink rate, a queue of
// messages for the InfiniBand NIC looked 9x shorter than it was, its timers
// expired while it drained, and the gb300 preset's flat ring (256 KiB
// messages, 288 ranks, 1 GiB) resent 98 M packets and took 1.79 s instead of
// 21.9 ms.
TEST(HostEndpointConfig, AHostWithSeveralPortsDrainsAtItsSlowest) {
  const FabricLoad load = FabricDescription::parse(test::kTwoPortHostsFabric, "two-port.yaml", {});
  ASSERT_TRUE(load.ok()) << load.report();
  auto t = fabric_file::build_topology(*load.description);
  ASSERT_TRUE(t.ok());
  protocol::EndpointConfig base;
  for (std::uint32_t h = 0; h < t->host_count(); ++h) {
    const protocol::EndpointConfig c = host_endpoint_config(base, *t, h);
    EXPECT_EQ(c.rank, h);
    EXPECT_EQ(c.address, h);
    ASSERT_EQ(c.rank_address.size(), 8u);
    EXPECT_EQ(c.rank_address[7], 7u);
    EXPECT_DOUBLE_EQ(c.nic_gbps, 800.0) << "host " << h;
  }
}

// Every host's endpoint holds the table of every rank's address: the hosts
// of a fabric share one, and a copy that is extended leaves the original.
TEST(HostEndpointConfig, AnAddressTableIsSharedUntilACopyChanges) {
  auto t = topology::Topology::star(4, {}, {});
  ASSERT_TRUE(t.ok());
  protocol::EndpointConfig base;
  base.rank_address = host_addresses(*t);
  const protocol::EndpointConfig a = host_endpoint_config(base, *t, 1);
  protocol::EndpointConfig b = host_endpoint_config(base, *t, 2);
  for (std::uint32_t r = 0; r < 4; ++r) EXPECT_EQ(a.rank_address[r], r);
  b.rank_address.push_back(40);
  ASSERT_EQ(b.rank_address.size(), 5u);
  EXPECT_EQ(b.rank_address[4], 40u);
  EXPECT_EQ(a.rank_address.size(), 4u);
  EXPECT_EQ(base.rank_address.size(), 4u);
  protocol::AddressTable built;
  for (wire::Address x : {7u, 8u}) built.push_back(x);
  EXPECT_EQ(built.size(), 2u);
  EXPECT_EQ(built[1], 8u);
  // A template with no table, or one for another fabric, gets this one's.
  protocol::EndpointConfig other;
  other.rank_address = {5, 6};
  EXPECT_EQ(host_endpoint_config(other, *t, 0).rank_address.size(), 4u);
  EXPECT_EQ(host_endpoint_config(other, *t, 0).rank_address[3], 3u);
}

}  // namespace
}  // namespace inca::fabric
