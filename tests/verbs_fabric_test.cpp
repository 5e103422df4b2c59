// The verbs fabric end to end: `inca launch --fabric verbs` and a rank
// joining from its bootstrap. Without an RDMA NIC both are a clear
// not_supported (what this test checks on CI machines). With one, and an
// inca-switch running behind it whose control channel INCA_TEST_VERBS_CONTROL
// names (the NIC's port r cabled to its port r, or INCA_TEST_VERBS_PORTS),
// the launched ranks run UdpRankProgram.Run's exact all-reduces over RDMA
// (docs/verbs.md, "Running the tests on a NIC").
#include <gtest/gtest.h>

#include <cstdlib>

#include "inca/process_world.hpp"
#include "support/inca_switch_process.hpp"
#include "support/run_command.hpp"

#ifdef INCA_HAVE_VERBS
#include "verbs_transport/devices.hpp"
#include "verbs_transport/verbs_rank.hpp"
#endif

namespace inca::test {
namespace {

#ifdef INCA_HAVE_VERBS
// Why this machine cannot run verbs ranks ("" when it can).
std::string no_rdma() {
  auto ports = verbs::discover_ports();
  return ports.ok() ? "" : ports.status().message();
}

TEST(VerbsFabric, LaunchWithoutRdmaIsNotSupported) {
  if (no_rdma().empty()) GTEST_SKIP() << "this machine has an RDMA device";
  const std::string inca = sibling_binary("inca");
  ASSERT_FALSE(inca.empty());
  const auto [status, out] = run_capture(inca + " launch -n 2 --fabric verbs -- /bin/true", true);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3) << out;
  EXPECT_NE(out.find("not_supported"), std::string::npos) << out;
  EXPECT_NE(out.find("ibv_get_device_list"), std::string::npos) << out;
}

TEST(VerbsFabric, ARankWithoutRdmaIsNotSupported) {
  if (no_rdma().empty()) GTEST_SKIP() << "this machine has an RDMA device";
  udp::Bootstrap b;
  b.fabric = "verbs";
  b.size = 2;
  b.peers = {"10.0.0.1:4791", "10.0.0.2:4791"};
  b.rendezvous = "127.0.0.1:1";
  auto rank = verbs::VerbsRank::open(b, {}, {});
  EXPECT_EQ(rank.status().code(), StatusCode::not_supported) << rank.status().to_string();
}

TEST(VerbsFabric, LaunchedRanksAreExactOnANic) {
  if (const std::string why = no_rdma(); !why.empty())
    GTEST_SKIP() << "needs an RDMA NIC (or Soft-RoCE): " << why;
  const char* control = std::getenv("INCA_TEST_VERBS_CONTROL");
  if (control == nullptr)
    GTEST_SKIP() << "set INCA_TEST_VERBS_CONTROL to the control channel of an inca-switch "
                    "behind this machine's NIC (docs/verbs.md)";
  const char* ports = std::getenv("INCA_TEST_VERBS_PORTS");
  const std::string inca = sibling_binary("inca");
  const std::string self = sibling_binary("inca_tests");
  const std::string command = fmt::format(
      "INCA_TEST_UDP_PLAN=exact {} launch -n 2 --fabric verbs --control {} {} -- {} "
      "--gtest_filter=UdpRankProgram.Run",
      inca, control, ports ? std::string("--switch-ports ") + ports : "", self);
  const auto [status, out] = run_capture(command, true);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
}
#else
TEST(VerbsFabric, LaunchedRanksAreExactOnANic) {
  GTEST_SKIP() << "this build has no libibverbs (rdma-core's libibverbs-dev)";
}
#endif

}  // namespace
}  // namespace inca::test
