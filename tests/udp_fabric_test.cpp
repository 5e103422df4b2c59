// The kernel-UDP fabric end to end: `inca launch` builds inca-switch with
// af_packet ports on veths, starts 4 rank processes in their own network
// namespaces, and they run the Communicator over UDP sockets. Exact
// in-network and ring all-reduce; a crashed rank fails the launch and
// leaves nothing behind; a rank that dies mid-collective makes the others
// fail with `timeout` by themselves. The memif fabric (ranks as DPDK
// processes) runs the same exact all-reduce. Root only (skipped otherwise).
//
// The rank program is tests/programs/udp_rank_program.cpp, built next to
// this binary.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>
#include <vector>

#include "inca/communicator.hpp"
#include "inca/process_world.hpp"
#include "support/inca_switch_process.hpp"
#include "support/netns.hpp"
#include "test_support.hpp"

namespace inca::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPlanVar = "INCA_TEST_UDP_PLAN";
// The ranks' --timeout-ms: a rank that hears nothing for this long gives up.
// Under a sanitizer the ranks and the switch run several times slower and two
// test shards share the cores, so a first collective once heard nothing for
// 1.5 s with nothing lost (TSan, and ASan in CI); 5 s there keeps "silence
// means a peer is gone" true.
constexpr const char* kRankTimeoutMs = kSanitizerBuild ? "5000" : "1500";

// Runs `inca launch -n 4 -v ... -- udp_rank_program`.
class UdpFabric : public ::testing::Test {
 protected:
  /// Runs the launcher until it exits.
  void launch(const std::string& plan, std::vector<std::string> extra = {}) {
    start_launch(plan, std::move(extra));
    if (!IsSkipped() && !HasFatalFailure()) wait();
  }

  /// Starts the launcher with rank plan `plan`; wait() collects it.
  void start_launch(const std::string& plan, std::vector<std::string> extra = {}) {
    if (const std::string why = netns_unavailable(); !why.empty()) GTEST_SKIP() << why;
    if (sibling_binary("inca-switch").empty()) GTEST_SKIP() << "inca-switch was not built";
    const std::string inca = sibling_binary("inca");
    if (inca.empty()) GTEST_SKIP() << "the inca command was not built";
    const std::string program = sibling_binary("udp_rank_program");
    ASSERT_FALSE(program.empty()) << "udp_rank_program is built with inca_tests";
    ::setenv(kPlanVar, plan.c_str(), 1);
    std::vector<std::string> argv = {inca, "launch",       "-n",          "4",
                                     "-v", "--timeout-ms", kRankTimeoutMs};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("--");
    argv.push_back(program);
    ASSERT_TRUE(launcher_.start(argv, dir_.path() + "/launch.log"));
    launcher_pid_ = launcher_.pid();
  }

  void wait() {
    // Far above any run: reaching it means something hung.
    const auto status = launcher_.wait_exit(50s);
    ::unsetenv(kPlanVar);
    ASSERT_TRUE(status.has_value()) << "inca launch hung:\n" << launcher_.log();
    status_ = *status;
    log_ = launcher_.log();
  }

  int exit_code() const { return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1; }

  void expect_crash_reported(std::vector<std::string> extra);

  // The launch succeeded and every rank checked both all-reduces (a line is
  // printed only for a result that matched the reference).
  void expect_exact_ranks() {
    EXPECT_EQ(exit_code(), 0) << log_;
    for (int r = 0; r < 4; ++r) {
      EXPECT_NE(log_.find(fmt::format("rank {}: innet exact", r)), std::string::npos) << log_;
      EXPECT_NE(log_.find(fmt::format("rank {}: ring exact", r)), std::string::npos) << log_;
      EXPECT_NE(log_.find(fmt::format("rank {}: non-blocking exact", r)), std::string::npos)
          << log_;
      EXPECT_NE(log_.find(fmt::format("rank {}: innet allgather exact", r)), std::string::npos)
          << log_;
    }
  }

  // No namespace, veth, EAL directory or process of the launch is left.
  void expect_nothing_left() {
    const int id = launcher_pid_ % 100000;
    std::string netns, links;
    read_command("ip netns list", netns);
    read_command("ip -o link show", links);
    EXPECT_EQ(netns.find(fmt::format("inca-{}-L", id)), std::string::npos) << netns;
    EXPECT_EQ(links.find(fmt::format("i{}L", id)), std::string::npos) << links;
    // Each switch's EAL runtime directory is /var/run/dpdk/inca-<launcher
    // pid>-<switch>, a memif rank's inca-<launcher pid>-rank<r>.
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/var/run/dpdk", ec))
      EXPECT_FALSE(
          entry.path().filename().string().starts_with(fmt::format("inca-{}-", launcher_pid_)))
          << entry.path();
    const std::regex pid_line(R"(rank \d+: pid (\d+) (in namespace|on memif))");
    int ranks = 0;
    for (std::sregex_iterator it(log_.begin(), log_.end(), pid_line), end; it != end; ++it) {
      ++ranks;
      EXPECT_NE(::kill(std::stoi((*it)[1]), 0), 0) << "rank process " << (*it)[1] << " still runs";
    }
    EXPECT_EQ(ranks, 4) << log_;
  }

  static void read_command(const std::string& command, std::string& out) {
    FILE* p = ::popen(command.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[4096];
    std::size_t got;
    while ((got = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, got);
    ::pclose(p);
  }

  TempDir dir_;
  ChildProcess launcher_;
  pid_t launcher_pid_ = 0;
  int status_ = -1;
  std::string log_;
};

TEST_F(UdpFabric, InnetAndRingAllreduceAreExact) {
  launch("exact");
  if (IsSkipped() || HasFatalFailure()) return;
  expect_exact_ranks();
  // The switch aggregated (its counters are in the launcher's verbose log).
  EXPECT_TRUE(std::regex_search(log_, std::regex(R"(engine: .* results=[1-9])"))) << log_;
  expect_nothing_left();
}

TEST_F(UdpFabric, MemifRanksInnetAndRingAllreduceAreExact) {
  // The memif fabric: the same rank program, each rank a DPDK process with
  // a memif client port on one of the switch's memif server ports.
  launch("exact", {"--fabric", "memif"});
  if (IsSkipped() || HasFatalFailure()) return;
  expect_exact_ranks();
  EXPECT_TRUE(std::regex_search(log_, std::regex(R"(engine: .* results=[1-9])"))) << log_;
  expect_nothing_left();
}

TEST_F(UdpFabric, LeafSpineInnetAndRingAllreduceAreExact) {
  // Two leaves of two ranks and a spine, three switch processes joined by
  // memif: the tree aggregates on two levels (leaves send partials), the
  // ring crosses the spine.
  launch("exact", {"--topology", "leaf-spine", "--hosts-per-leaf", "2"});
  if (IsSkipped() || HasFatalFailure()) return;
  expect_exact_ranks();
  EXPECT_TRUE(std::regex_search(log_, std::regex(R"(engine: .* partials_sent=[1-9])"))) << log_;
  expect_nothing_left();
}

TEST_F(UdpFabric, InterruptedLaunchStopsTheRanksAndLeavesNothingBehind) {
  start_launch("sleep");
  if (IsSkipped() || HasFatalFailure()) return;
  for (int r = 0; r < 4; ++r)
    ASSERT_TRUE(launcher_.wait_for_line(fmt::format("rank {}: sleeping", r), 40s))
        << launcher_.log();
  launcher_.signal(SIGINT);
  wait();
  if (HasFatalFailure()) return;
  EXPECT_EQ(exit_code(), 1) << log_;
  EXPECT_NE(log_.find("interrupted by signal 2"), std::string::npos) << log_;
  EXPECT_NE(log_.find("4 of 4 ranks failed"), std::string::npos) << log_;
  expect_nothing_left();
}

// Rank 1 aborts: the launch fails naming it and leaves nothing behind.
void UdpFabric::expect_crash_reported(std::vector<std::string> extra) {
  extra.insert(extra.end(), {"--grace", "30"});
  launch("crash", extra);
  if (IsSkipped() || HasFatalFailure()) return;
  EXPECT_EQ(exit_code(), 1) << log_;
  EXPECT_TRUE(std::regex_search(log_, std::regex(R"(rank 1 \(pid \d+\) was killed by signal 6)")))
      << log_;
  EXPECT_NE(log_.find("1 of 4 ranks failed"), std::string::npos) << log_;
  expect_nothing_left();
}

TEST_F(UdpFabric, CrashedRankFailsTheLaunchAndLeavesNothingBehind) {
  expect_crash_reported({});
}

TEST_F(UdpFabric, CrashedMemifRankLeavesNoEalDirectoryBehind) {
  // An aborted DPDK process cannot clean its EAL directory up: the launcher does.
  expect_crash_reported({"--fabric", "memif"});
}

TEST_F(UdpFabric, RankDyingMidCollectiveTimesOutTheOthers) {
  // The grace is far above the ranks' timeout (kRankTimeoutMs): the survivors must
  // fail by themselves, not be killed by the launcher.
  launch("die", {"--grace", "30"});
  if (IsSkipped() || HasFatalFailure()) return;
  EXPECT_EQ(exit_code(), 1) << log_;
  EXPECT_TRUE(std::regex_search(log_, std::regex(R"(rank 2 \(pid \d+\) was killed by signal 9)")))
      << log_;
  for (int r : {0, 1, 3})
    EXPECT_NE(log_.find(fmt::format("rank {}: timeout:", r)), std::string::npos) << log_;
  EXPECT_NE(log_.find("1 of 4 ranks failed"), std::string::npos) << log_;
  expect_nothing_left();
}

}  // namespace
}  // namespace inca::test
