// inca-loadgen against inca-switch over memif (no root needed): both phases
// run, every aggregated result is exact, and the switch's counters agree.
// Rates are printed, never asserted (wall-clock figures vary by machine).
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "support/inca_switch_process.hpp"

namespace inca::test {
namespace {

using namespace std::chrono_literals;

// An inca-switch with two memif server ports, and load generators as their
// clients on the same sockets.
class InncaSwitchLoadgen : public ::testing::Test {
 protected:
  void SetUp() override {
    switch_bin_ = sibling_binary("inca-switch");
    loadgen_bin_ = sibling_binary("inca-loadgen");
    if (switch_bin_.empty() || loadgen_bin_.empty())
      GTEST_SKIP() << "inca-switch / inca-loadgen were not built (libdpdk not found)";
    for (int i = 0; i < 2; ++i) {
      const std::string sock = fmt::format("{}/m{}.sock", dir_.path(), i);
      server_.push_back(
          fmt::format("net_memif{},role=server,socket={},socket-abstract=no", i, sock));
      client_.push_back(
          fmt::format("net_memif{},role=client,socket={},socket-abstract=no", i, sock));
    }
  }

  void start_switch(const std::vector<std::string>& args) {
    std::string error;
    ASSERT_TRUE(sw_.start(switch_bin_, "lgsw", server_, args, dir_.path(), error)) << error;
  }

  // Runs one load generator named `name` to its end; its RESULT line.
  std::string run_loadgen(const std::string& name, const std::vector<std::string>& args) {
    DpdkProcess loadgen;
    EXPECT_TRUE(loadgen.start(loadgen_bin_, name, client_, args,
                              fmt::format("{}/{}.log", dir_.path(), name)));
    // "RESULT frame_bytes=330 fwd_pps=... agg_pps=... ratio=... inexact=0"
    auto result = loadgen.process().wait_for_line("RESULT ", 50s);
    EXPECT_TRUE(result.has_value()) << loadgen.process().log() << "\n" << sw_.log();
    const auto status = loadgen.process().wait_exit(20s);
    EXPECT_TRUE(status.has_value()) << "inca-loadgen did not exit";
    if (status) {
      EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
          << loadgen.process().log() << "\n"
          << sw_.log();
    }
    return result.value_or("");
  }

  std::vector<wire::Counter> counters() {
    auto control = sw_.connect();
    EXPECT_TRUE(control.ok()) << control.status().to_string() << "\n" << sw_.log();
    if (!control.ok()) return {};
    auto c = control->counters();
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? *c : std::vector<wire::Counter>{};
  }

  // "RESULT a=1 b=2.5 ..." as {a: 1, b: 2.5}.
  static std::map<std::string, double> result_fields(const std::string& result) {
    std::map<std::string, double> fields;
    std::istringstream in(result);
    for (std::string kv; in >> kv;)
      if (const auto eq = kv.find('='); eq != std::string::npos)
        fields[kv.substr(0, eq)] = std::stod(kv.substr(eq + 1));
    return fields;
  }

  std::uint64_t counter(const std::vector<wire::Counter>& all, const std::string& name) {
    return manager::find_counter(all, name).value_or(0);
  }

  std::string switch_bin_, loadgen_bin_;
  TempDir dir_;
  std::vector<std::string> server_, client_;
  SwitchProcess sw_;
};

TEST_F(InncaSwitchLoadgen, ForwardsAndAggregatesOverMemif) {
  ASSERT_NO_FATAL_FAILURE(start_switch({}));
  const std::string result =
      run_loadgen("lggen", {"--control", sw_.control_address(), "--seconds", "0.5", "--window",
                            "16", "--payload-bytes", "256"});
  ASSERT_FALSE(result.empty());
  std::printf("inca-loadgen: %s\n", result.c_str());
  std::map<std::string, double> fields = result_fields(result);
  EXPECT_GT(fields["fwd_pps"], 0);
  EXPECT_GT(fields["agg_pps"], 0);
  ASSERT_TRUE(fields.count("inexact"));
  EXPECT_EQ(fields["inexact"], 0);
  const auto all = counters();
  EXPECT_GT(counter(all, "engine.results"), 0u);
  EXPECT_GT(counter(all, "port0.l2_unicast"), 0u);
  EXPECT_EQ(manager::find_counter(all, "switch.trees").value_or(1), 0u);  // removed again
}

// The aggregation over inca-over-UDP and over RoCEv2 in one run: every RoCEv2
// result passes the load generator's NIC checks (ICRC, opcode, PSN order,
// ring entry) and is exact; the queue pairs are disconnected again.
TEST_F(InncaSwitchLoadgen, AggregatesOverUdpAndRoceExactly) {
  ASSERT_NO_FATAL_FAILURE(start_switch({}));
  const std::string result =
      run_loadgen("lgroce", {"--control", sw_.control_address(), "--mode", "agg-roce", "--seconds",
                             "0.5", "--window", "16", "--payload-bytes", "256"});
  ASSERT_FALSE(result.empty());
  std::printf("inca-loadgen: %s\n", result.c_str());
  std::map<std::string, double> fields = result_fields(result);
  EXPECT_GT(fields["agg_pps"], 0);
  EXPECT_GT(fields["roce_pps"], 0);
  ASSERT_TRUE(fields.count("inexact") && fields.count("roce_errors"));
  EXPECT_EQ(fields["inexact"], 0);
  EXPECT_EQ(fields["roce_errors"], 0);
  const auto all = counters();
  for (const std::string p : {"port0", "port1"}) {
    EXPECT_GT(counter(all, p + ".roce_rx"), 0u) << p;
    EXPECT_GT(counter(all, p + ".roce_tx"), 0u) << p;
    EXPECT_EQ(counter(all, p + ".drop_roce_bad_icrc"), 0u) << p;
    EXPECT_EQ(counter(all, p + ".drop_roce_psn_gap"), 0u) << p;
  }
  EXPECT_EQ(manager::find_counter(all, "roce.connected_qps").value_or(1), 0u);
}

// 10 Mb/s ports, flooded by an open-loop sender: frames queue behind the
// token bucket.
TEST_F(InncaSwitchLoadgen, RateLimitedPortsMakeFramesWait) {
  ASSERT_NO_FATAL_FAILURE(start_switch({"--port-gbps", "0.01"}));
  run_loadgen("rlgen", {"--mode", "fwd", "--seconds", "0.3", "--payload-bytes", "256"});
  const auto all = counters();
  for (const std::string p : {"port0", "port1"}) {
    EXPECT_GT(counter(all, p + ".rate_limit_waits"), 0u) << p;
    EXPECT_LT(counter(all, p + ".tx_packets"), counter(all, p + ".rx_packets")) << p;
  }
}

// memif peers leave on the EAL interrupt thread, which unmaps their rings:
// the switch must never be inside a burst on them then (InterruptGate).
// Load generators come and go while the switch forwards; it serves each one
// and is still alive and answering at the end. The ports are rate-limited so
// that frames still wait in the switch when a peer leaves: the loop is then
// busy-polling the ports rather than sleeping, which is when the race bit.
TEST_F(InncaSwitchLoadgen, SwitchOutlivesPeersThatComeAndGo) {
  ASSERT_NO_FATAL_FAILURE(start_switch({"--port-gbps", "0.01"}));
  constexpr int kPeers = 4;
  for (int round = 0; round < kPeers; ++round) {
    run_loadgen(fmt::format("cggen{}", round),
                {"--mode", "fwd", "--seconds", "0.2", "--payload-bytes", "256"});
    ASSERT_TRUE(sw_.process().running()) << "the switch died when peer " << round << " left:\n"
                                         << sw_.log();
  }
  // Every peer's frames came in on port 0 and went out on port 1.
  const auto all = counters();
  EXPECT_GE(counter(all, "port0.rx_packets"), static_cast<std::uint64_t>(kPeers));
  EXPECT_GE(counter(all, "port1.tx_packets"), static_cast<std::uint64_t>(kPeers));
}

}  // namespace
}  // namespace inca::test
