// inca-loadgen against inca-switch over memif (no root needed): both phases
// run, every aggregated result is exact, and the switch's counters agree.
// Rates are printed, never asserted (wall-clock figures vary by machine).
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "support/inca_switch_process.hpp"

namespace inca::test {
namespace {

// Two memif links, as the switch's server ports and the load generator's
// client ports on the same sockets (named by `prefix` in `dir`).
std::pair<std::vector<std::string>, std::vector<std::string>> memif_port_pairs(
    const std::string& dir, const std::string& prefix) {
  std::vector<std::string> server, client;
  for (int i = 0; i < 2; ++i) {
    const std::string sock = fmt::format("{}/{}{}.sock", dir, prefix, i);
    server.push_back(fmt::format("net_memif{},role=server,socket={},socket-abstract=no", i, sock));
    client.push_back(fmt::format("net_memif{},role=client,socket={},socket-abstract=no", i, sock));
  }
  return {server, client};
}

using namespace std::chrono_literals;

TEST(InncaSwitchLoadgen, ForwardsAndAggregatesOverMemif) {
  const std::string switch_bin = sibling_binary("inca-switch");
  const std::string loadgen_bin = sibling_binary("inca-loadgen");
  if (switch_bin.empty() || loadgen_bin.empty())
    GTEST_SKIP() << "inca-switch / inca-loadgen were not built (libdpdk not found)";
  TempDir dir;
  const auto [server, client] = memif_port_pairs(dir.path(), "m");
  SwitchProcess sw;
  std::string error;
  ASSERT_TRUE(sw.start(switch_bin, "lgsw", server, {}, dir.path(), error)) << error;

  DpdkProcess loadgen;
  const std::string log = dir.path() + "/loadgen.log";
  ASSERT_TRUE(loadgen.start(loadgen_bin, "lggen", client,
                            {"--control", sw.control_address(), "--seconds", "0.5", "--window",
                             "16", "--payload-bytes", "256"},
                            log));
  // "RESULT frame_bytes=330 fwd_pps=... agg_pps=... ratio=... inexact=0"
  auto result = loadgen.process().wait_for_line("RESULT ", 50s);
  ASSERT_TRUE(result.has_value()) << loadgen.process().log() << "\n" << sw.log();
  std::printf("inca-loadgen: %s\n", result->c_str());
  const auto status = loadgen.process().wait_exit(20s);
  ASSERT_TRUE(status.has_value()) << "inca-loadgen did not exit";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << loadgen.process().log();

  std::map<std::string, double> fields;
  std::istringstream in(*result);
  for (std::string kv; in >> kv;)
    if (const auto eq = kv.find('='); eq != std::string::npos)
      fields[kv.substr(0, eq)] = std::stod(kv.substr(eq + 1));
  EXPECT_GT(fields["fwd_pps"], 0);
  EXPECT_GT(fields["agg_pps"], 0);
  ASSERT_TRUE(fields.count("inexact"));
  EXPECT_EQ(fields["inexact"], 0);
  auto client_conn = sw.connect();
  ASSERT_TRUE(client_conn.ok());
  auto counters = client_conn->counters();
  ASSERT_TRUE(counters.ok());
  EXPECT_GT(manager::find_counter(*counters, "engine.results").value_or(0), 0u);
  EXPECT_GT(manager::find_counter(*counters, "port0.l2_unicast").value_or(0), 0u);
  EXPECT_EQ(manager::find_counter(*counters, "switch.trees").value_or(1), 0u);  // removed again
}

}  // namespace
}  // namespace inca::test

namespace inca::test {
namespace {

TEST(InncaSwitchLoadgen, RateLimitedPortsMakeFramesWait) {
  const std::string switch_bin = sibling_binary("inca-switch");
  const std::string loadgen_bin = sibling_binary("inca-loadgen");
  if (switch_bin.empty() || loadgen_bin.empty())
    GTEST_SKIP() << "inca-switch / inca-loadgen were not built (libdpdk not found)";
  TempDir dir;
  const auto [server, client] = memif_port_pairs(dir.path(), "r");
  // 10 Mb/s ports, flooded by an open-loop sender: frames queue behind the
  // token bucket.
  SwitchProcess sw;
  std::string error;
  ASSERT_TRUE(sw.start(switch_bin, "rlsw", server, {"--port-gbps", "0.01"}, dir.path(), error))
      << error;
  DpdkProcess loadgen;
  ASSERT_TRUE(loadgen.start(loadgen_bin, "rlgen", client,
                            {"--mode", "fwd", "--seconds", "0.3", "--payload-bytes", "256"},
                            dir.path() + "/loadgen.log"));
  const auto status = loadgen.process().wait_exit(40s);
  ASSERT_TRUE(status.has_value()) << "inca-loadgen did not exit";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << loadgen.process().log();
  auto control = sw.connect();
  ASSERT_TRUE(control.ok());
  auto counters = control->counters();
  ASSERT_TRUE(counters.ok());
  for (const char* port : {"port0", "port1"}) {
    const std::string p(port);
    EXPECT_GT(manager::find_counter(*counters, p + ".rate_limit_waits").value_or(0), 0u) << p;
    EXPECT_LT(manager::find_counter(*counters, p + ".tx_packets").value_or(0),
              manager::find_counter(*counters, p + ".rx_packets").value_or(0))
        << p;
  }
}

}  // namespace
}  // namespace inca::test
