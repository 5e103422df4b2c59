// Open MPI as the launcher of a UDP-fabric job: mpirun starts 4 ranks of
// example_mpi_allreduce, which exchange their addresses over MPI, let rank 0
// install the tree through the switch's control channel, and check exact
// in-network and ring all-reduce. The ranks stay in mpirun's namespace and
// each opens its socket in its own namespace behind a veth (--netns-prefix).
// Root, inca-switch, mpirun and the example are needed (skipped otherwise).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "support/star_switch.hpp"

namespace inca::test {
namespace {

using namespace std::chrono_literals;

// `name` found on PATH, or "".
std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const std::string candidate = std::string(rest.substr(0, colon)) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return "";
}

class UdpMpi : public StarSwitchTest {};

TEST_F(UdpMpi, MpirunBootstrapRunsExactInnetAndRingAllreduce) {
  // Under ASan, Open MPI's components are dlclose()d before exit, so what
  // they keep until exit shows as leaks from "<unknown module>" that no
  // suppression can name. The rank program's leak check is off for this test
  // only (its children inherit this); the same inca code is leak-checked by
  // the UDP fabric tests.
  const char* asan = std::getenv("ASAN_OPTIONS");
  ::setenv("ASAN_OPTIONS",
           (std::string(asan ? asan : "") + (asan && *asan ? ":" : "") + "detect_leaks=0").c_str(),
           1);
  const std::string mpirun = on_path("mpirun");
  const std::string example = sibling_binary("example_mpi_allreduce");
  if (mpirun.empty() || example.empty())
    GTEST_SKIP() << "needs mpirun and example_mpi_allreduce (built where CMake finds MPI)";
  // Rank 0 plans the job's tree alone, so the switch carries no other job.
  install_tree_ = false;
  start(4, "m");
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string prefix = veths_->ns(0).substr(0, veths_->ns(0).size() - 1);
  // Twice: the first job's rank 0 removes its tree, so the second gets the slots.
  for (int run = 0; run < 2; ++run) {
    ChildProcess job;
    ASSERT_TRUE(
        job.start({mpirun, "--allow-run-as-root", "--oversubscribe", "-np", "4", example,
                   "--fabric", "udp", "--switch", fmt::format("{}:{}", kSwitchIp, info_.udp_port),
                   "--control", switch_.control_address(), "--netns-prefix", prefix, "--window",
                   "8", "--slot-bytes", std::to_string(kSlotBytes),
                   // Only a loss waits this long: generous, since sanitized ranks
                   // on shared cores can be silent for seconds with nothing lost.
                   "--timeout-ms", "10000"},
                  fmt::format("{}/mpirun{}.log", dir_.path(), run)));
    // A hang bound, not a speed check: under ASan on a busy machine MPI start-up
    // and finalisation alone take tens of seconds.
    const auto status = job.wait_exit(120s);
    ASSERT_TRUE(status.has_value()) << "mpirun hung:\n" << job.log();
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << job.log();
    for (int r = 0; r < 4; ++r) {
      EXPECT_NE(job.log().find(fmt::format("rank {}: innet exact", r)), std::string::npos)
          << job.log();
      EXPECT_NE(job.log().find(fmt::format("rank {}: ring exact", r)), std::string::npos)
          << job.log();
    }
  }
  EXPECT_EQ(counter("switch.trees"), 0u);
  EXPECT_GE(counter("engine.results"), 1u);
}

}  // namespace
}  // namespace inca::test
