// The kernel-UDP fabric end to end: `inca launch` builds inca-switch with
// af_packet ports on veths, starts 4 rank processes in their own network
// namespaces, and they run the Communicator over UDP sockets. Exact
// in-network and ring all-reduce; a crashed rank fails the launch and
// leaves nothing behind; a rank that dies mid-collective makes the others
// fail with `timeout` by themselves. The memif fabric (ranks as DPDK
// processes) runs the same exact all-reduce. Root only (skipped otherwise).
//
// The rank program is this test binary itself: UdpRankProgram.Run does the
// work of one rank when `inca launch` started it, and skips otherwise.
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
// Under ThreadSanitizer the ranks and the switch run several times slower
// and two launches may share the cores, so a first collective once heard
// nothing for 1.5 s with nothing lost; 5 s there keeps "silence means a peer
// is gone" true.
constexpr const char* kRankTimeoutMs = kThreadSanitizer ? "5000" : "1500";

std::vector<std::int32_t> rank_data(int rank, std::size_t count) {
  std::vector<std::int32_t> v(count);
  for (std::size_t i = 0; i < count; ++i)
    v[i] = static_cast<std::int32_t>((rank + 1) * 1000003 - i * 7 - (i % 3 == 0 ? 500000 : 0));
  return v;
}

std::vector<std::int32_t> expected_sum(int ranks, std::size_t count) {
  std::vector<std::int32_t> expect(count, 0);
  for (int r = 0; r < ranks; ++r) {
    const auto v = rank_data(r, count);
    for (std::size_t i = 0; i < count; ++i) expect[i] += v[i];
  }
  return expect;
}

// Every rank checks an exact i32 all-reduce with `algorithm`.
void check_exact(Communicator& comm, const char* algorithm, std::size_t count) {
  const auto expect = expected_sum(comm.size(), count);
  const auto send = rank_data(comm.rank(), count);
  std::vector<std::int32_t> recv(count, 0);
  const Status s = comm.allreduce(send.data(), recv.data(), count, Dtype::i32, ReduceOp::sum,
                                  {.algorithm = algorithm});
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(comm.last_algorithm(), algorithm);
  EXPECT_EQ(recv, expect) << algorithm;
  std::printf("rank %d: %s exact\n", comm.rank(), algorithm);
}

// Both at once, as non-blocking collectives completed in the other order:
// the switch tree and the host ring progress together over real packets.
void check_exact_nonblocking(Communicator& comm, std::size_t count) {
  const auto expect = expected_sum(comm.size(), count);
  const auto send = rank_data(comm.rank(), count);
  std::vector<std::int32_t> by_innet(count, 0), by_ring(count, 0);
  auto innet = comm.iallreduce(send.data(), by_innet.data(), count, Dtype::i32, ReduceOp::sum,
                               {.algorithm = "innet"});
  auto ring = comm.iallreduce(send.data(), by_ring.data(), count, Dtype::i32, ReduceOp::sum,
                              {.algorithm = "ring"});
  // Every started request is waited for before its buffers go.
  const Status ring_done = ring.ok() ? comm.wait(*ring) : ring.status();
  const Status innet_done = innet.ok() ? comm.wait(*innet) : innet.status();
  EXPECT_TRUE(ring_done.ok()) << ring_done.to_string();
  EXPECT_TRUE(innet_done.ok()) << innet_done.to_string();
  EXPECT_EQ(by_innet, expect);
  EXPECT_EQ(by_ring, expect);
  if (ring_done.ok() && innet_done.ok() && by_innet == expect && by_ring == expect)
    std::printf("rank %d: non-blocking exact\n", comm.rank());
}

// The rank program of the tests below, chosen by INCA_TEST_UDP_PLAN:
// `exact`: innet and ring all-reduce, then both at once non-blocking, checked; `crash`: rank 1
// aborts at once, the others' ring all-reduce must fail; `die`: after an exact all-reduce, rank 2
// is killed while a long in-network all-reduce runs, which must fail with `timeout` on the others;
// `sleep`: sleep a minute.
TEST(UdpRankProgram, Run) {
  if (!ProcessWorld::launched()) GTEST_SKIP() << "the rank program of UdpFabric.* (inca launch)";
  const char* plan_env = std::getenv(kPlanVar);
  const std::string plan = plan_env ? plan_env : "exact";
  auto world = ProcessWorld::from_env();
  ASSERT_TRUE(world.ok()) << world.status().to_string();
  Status run = (*world)->run([&](Communicator& comm) {
    if (plan == "exact") {
      check_exact(comm, "innet", 10000);
      check_exact(comm, "ring", 10000);
      check_exact_nonblocking(comm, 10000);
      return;
    }
    if (plan == "sleep") {  // until the launcher is interrupted
      std::printf("rank %d: sleeping\n", comm.rank());
      std::fflush(stdout);
      std::this_thread::sleep_for(60s);
      return;
    }
    const std::size_t count = plan == "crash" ? 1000 : 16u << 20;
    std::vector<float> send(count, 1.0f), recv(count);
    if (plan == "crash" && comm.rank() == 1) std::abort();
    if (plan == "die") {
      check_exact(comm, "innet", 1000);
      // Rank 2 goes while the 64 MiB all-reduce is under way.
      if (comm.rank() == 2)
        std::thread([] {
          std::this_thread::sleep_for(50ms);
          ::raise(SIGKILL);
        }).detach();
    }
    const Status s = comm.allreduce(send.data(), recv.data(), count, Dtype::f32, ReduceOp::sum,
                                    {.algorithm = plan == "crash" ? "ring" : "innet"});
    std::printf("rank %d: %s\n", comm.rank(), s.to_string().c_str());
    EXPECT_EQ(s.code(), StatusCode::timeout) << s.to_string();
  });
  // A failed job's closing barrier fails too; that is not this rank's fault.
  if (plan == "exact") {
    EXPECT_TRUE(run.ok()) << run.to_string();
  }
}

// Runs `inca launch -n 4 -v ... -- <this binary> --gtest_filter=UdpRankProgram.Run`.
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
    ::setenv(kPlanVar, plan.c_str(), 1);
    std::vector<std::string> argv = {inca, "launch",       "-n",          "4",
                                     "-v", "--timeout-ms", kRankTimeoutMs};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("--");
    argv.push_back(std::filesystem::read_symlink("/proc/self/exe").string());
    argv.push_back("--gtest_filter=UdpRankProgram.Run");
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

  // The launch succeeded and every rank checked both all-reduces.
  void expect_exact_ranks() {
    EXPECT_EQ(exit_code(), 0) << log_;
    for (int r = 0; r < 4; ++r) {
      EXPECT_NE(log_.find(fmt::format("rank {}: innet exact", r)), std::string::npos) << log_;
      EXPECT_NE(log_.find(fmt::format("rank {}: ring exact", r)), std::string::npos) << log_;
      EXPECT_NE(log_.find(fmt::format("rank {}: non-blocking exact", r)), std::string::npos)
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
