// RDMA device discovery on this machine. Without an RDMA stack or device it
// must be a clear not_supported (what CI machines and containers have);
// with a NIC, it must find an active RoCEv2 port (run it where one exists:
// docs/verbs.md, "Running the tests on a NIC").
#include <gtest/gtest.h>

#ifdef INCA_HAVE_VERBS
#include "verbs_transport/devices.hpp"

namespace inca::verbs {
namespace {

TEST(VerbsDevices, NoRdmaIsNotSupportedSayingWhy) {
  auto ports = discover_ports();
  if (ports.ok()) GTEST_SKIP() << "this machine has RDMA devices (" << ports->size() << " ports)";
  EXPECT_EQ(ports.status().code(), StatusCode::not_supported) << ports.status().to_string();
  const std::string why = ports.status().message();
  EXPECT_TRUE(why.find("ibv_get_device_list") != std::string::npos ||
              why.find("no RDMA device") != std::string::npos)
      << why;
}

TEST(VerbsDevices, ANicHasAnActiveRoceV2Port) {
  auto ports = discover_ports();
  if (!ports.ok()) GTEST_SKIP() << "needs an RDMA NIC or Soft-RoCE: " << ports.status().message();
  auto address = choose_roce_v2(*ports, {}, 0);
  ASSERT_TRUE(address.ok()) << address.status().to_string();
  EXPECT_TRUE(gid_ipv4(address->gid).has_value());
  EXPECT_GE(address->mtu, 256u);
}

}  // namespace
}  // namespace inca::verbs
#endif
