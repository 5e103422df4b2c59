// `inca run` as a user runs it: the JSON rows and lock intervals, the table,
// and the exit codes (0 exact, 1 invalid config with the validator's
// findings, 2 usage).
#include <gtest/gtest.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "inca_command.hpp"

namespace inca {
namespace {

const std::string kData = std::string(INCA_SOURCE_DIR) + "/tests/data/jobs/";

using test::CommandRun;

CommandRun inca_run(const std::string& args) {
  return test::run_inca("run " + args, "run");
}

TEST(RunCommand, JsonRowsCarryTimesSlowdownAlgorithmTreesAndLocks) {
  const CommandRun run =
      inca_run(kData + "run-fabric.yaml " + kData + "run-streaming.yaml --format json");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto out = nlohmann::json::parse(run.out);
  EXPECT_EQ(out["valid"], true);
  EXPECT_EQ(out["payload"], true);
  // The validator's warnings come along: the oversubscribed leaves, the locks.
  ASSERT_EQ(out["findings"].size(), 2u);
  EXPECT_EQ(out["findings"][1]["severity"], "warning");
  EXPECT_NE(out["findings"][1]["message"].get<std::string>().find("cannot hold their locks"),
            std::string::npos);
  ASSERT_EQ(out["rows"].size(), 2u);
  for (const char* field :
       {"job",      "tenant",     "step",       "collective", "bytes",           "dtype",
        "op",       "ranks",      "repeat",     "start_us",   "time_us",         "alone_us",
        "slowdown", "algbw_GBps", "busbw_GBps", "algorithm",  "alone_algorithm", "why",
        "trees",    "check"})
    EXPECT_TRUE(out["rows"][0].contains(field)) << field;
  EXPECT_EQ(out["rows"][0]["collective"], "allreduce");
  EXPECT_EQ(out["rows"][0]["bytes"], 262144);
  EXPECT_EQ(out["rows"][0]["check"], "exact");
  EXPECT_EQ(out["rows"][1]["trees"], "root spine0, 2 level(s), 3 switch(es)");
  // One job held the lock; the other ran on the hosts.
  ASSERT_EQ(out["locks"].size(), 1u);
  const int holder = out["locks"][0]["job"] == "a" ? 0 : 1;
  EXPECT_EQ(out["rows"][holder]["algorithm"], "auto:innet");
  EXPECT_EQ(out["rows"][1 - holder]["algorithm"], "ring");
  EXPECT_LT(out["locks"][0]["from_us"].get<double>(), out["locks"][0]["to_us"].get<double>());
  // The counters of the run with every job: one job's innet tree aggregated.
  EXPECT_GT(out["stats"]["host_packets_sent"].get<std::uint64_t>(), 0u);
  EXPECT_GT(out["stats"]["switch_contributions"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(out["stats"]["host_retransmissions"].get<std::uint64_t>(),
            out["stats"]["host_innet_retransmissions"].get<std::uint64_t>() +
                out["stats"]["host_p2p_retransmissions"].get<std::uint64_t>());
}

TEST(RunCommand, TableNamesEachJobAndWhy) {
  const CommandRun run = inca_run(kData + "run-fabric.yaml " + kData + "run-shared.yaml");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(run.out.find("stats of the run"), std::string::npos) << run.out;
  const CommandRun stats = inca_run(kData + "run-fabric.yaml " + kData + "run-shared.yaml --stats");
  ASSERT_EQ(stats.exit_code, 0) << stats.out;
  EXPECT_NE(stats.out.find("stats of the run with every job (counters that moved): "
                           "switch_contributions="),
            std::string::npos)
      << stats.out;
  EXPECT_NE(run.out.find("slowdown"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("why:   low-latency tree"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("exact"), std::string::npos) << run.out;
}

// The disjoint jobs' paths each carry one flow: segment mode is exact there.
TEST(RunCommand, SegmentModeRowsSayTheirModelAndMatchPacketMode) {
  const std::string args =
      kData + "run-fabric.yaml " + kData + "run-disjoint.yaml --payload off --format json";
  const CommandRun packet = inca_run(args);
  const CommandRun segment = inca_run(args + " --sim-mode segment --segment-packets 8");
  ASSERT_EQ(packet.exit_code, 0) << packet.out;
  ASSERT_EQ(segment.exit_code, 0) << segment.out;
  const auto p = nlohmann::json::parse(packet.out), s = nlohmann::json::parse(segment.out);
  EXPECT_EQ(p["payload"], false);
  ASSERT_EQ(p["rows"].size(), 2u);
  ASSERT_EQ(s["rows"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(p["rows"][i]["model"], "packet");
    EXPECT_EQ(s["rows"][i]["model"], "segment");
    EXPECT_EQ(s["rows"][i]["check"], "timing");
    EXPECT_DOUBLE_EQ(s["rows"][i]["time_us"].get<double>(), p["rows"][i]["time_us"].get<double>());
  }
  // Segments of 8 packets: fewer events for the same times.
  EXPECT_LT(s["events"].get<std::uint64_t>(), p["events"].get<std::uint64_t>());
}

TEST(RunCommand, SegmentModeOnARunThatCarriesDataRunsPacketModeAndSaysSo) {
  const CommandRun run =
      inca_run(kData + "run-fabric.yaml " + kData + "run-disjoint.yaml --sim-mode segment");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("model: packet"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("the run carried data, so it was simulated packet by packet"),
            std::string::npos)
      << run.out;
  EXPECT_EQ(run.out.find("(model segment)"), std::string::npos) << run.out;
}

TEST(RunCommand, TheSimModeKnobIsTheDefault) {
  ASSERT_EQ(setenv("INCA_SIM_MODE", "segment", 1), 0);
  const CommandRun run =
      inca_run(kData + "run-fabric.yaml " + kData + "run-disjoint.yaml --payload off --no-alone");
  unsetenv("INCA_SIM_MODE");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("(model segment)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("model: segment (coarse)"), std::string::npos) << run.out;
}

TEST(RunCommand, SegmentModeRefusalsAreUsageErrors) {
  const std::string files = kData + "run-fabric.yaml " + kData + "run-disjoint.yaml ";
  const CommandRun with_data = inca_run(files + "--payload on --sim-mode segment");
  EXPECT_EQ(with_data.exit_code, 2);
  EXPECT_NE(with_data.out.find("needs the sim fabric and --payload off or auto"), std::string::npos)
      << with_data.out;
  const CommandRun unknown = inca_run(files + "--sim-mode flow");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.out.find("unknown --sim-mode 'flow'"), std::string::npos) << unknown.out;
  const CommandRun one = inca_run(files + "--payload off --sim-mode segment --segment-packets 1");
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_NE(one.out.find("--segment-packets 1 is outside 2..1024"), std::string::npos) << one.out;
  const CommandRun p2p =
      inca_run(files + "--payload off --sim-mode segment --p2p-segment-packets 2000");
  EXPECT_EQ(p2p.exit_code, 2);
  EXPECT_NE(p2p.out.find("--p2p-segment-packets 2000 is outside 1..1024"), std::string::npos)
      << p2p.out;
  ASSERT_EQ(setenv("INCA_SIM_MODE", "flow", 1), 0);
  const CommandRun knob = inca_run(files);
  unsetenv("INCA_SIM_MODE");
  EXPECT_EQ(knob.exit_code, 2);
  EXPECT_NE(knob.out.find("INCA_SIM_MODE='flow'"), std::string::npos) << knob.out;
}

TEST(RunCommand, AlgorithmPinsHostAlgorithmsAndAsksTheSwitchesForInnet) {
  const CommandRun ring = inca_run(kData + "run-fabric.yaml " + kData +
                                   "run-shared.yaml --algorithm recursive_doubling --format json");
  ASSERT_EQ(ring.exit_code, 0) << ring.out;
  const auto pinned = nlohmann::json::parse(ring.out);
  ASSERT_EQ(pinned["rows"].size(), 2u);
  for (const auto& row : pinned["rows"]) {
    EXPECT_EQ(row["algorithm"], "recursive_doubling");
    EXPECT_EQ(row["why"], "recursive_doubling as asked: the hosts only");
    EXPECT_EQ(row["check"], "exact");
  }
  // innet where the admission lets the step use the switches: one job holds
  // the streaming locks, the other falls back to its host algorithm.
  const CommandRun innet = inca_run(kData + "run-fabric.yaml " + kData +
                                    "run-streaming.yaml --algorithm innet --format json");
  ASSERT_EQ(innet.exit_code, 0) << innet.out;
  const auto out = nlohmann::json::parse(innet.out);
  ASSERT_EQ(out["locks"].size(), 1u);
  const int holder = out["locks"][0]["job"] == "a" ? 0 : 1;
  EXPECT_EQ(out["rows"][holder]["algorithm"], "innet");
  EXPECT_EQ(out["rows"][1 - holder]["algorithm"], "ring");
  EXPECT_NE(out["rows"][1 - holder]["why"].get<std::string>().find("lock_failed"),
            std::string::npos);

  const CommandRun unknown =
      inca_run(kData + "run-fabric.yaml " + kData + "run-shared.yaml --algorithm nope");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.out.find("--algorithm: job 'a': unknown algorithm 'nope'"), std::string::npos)
      << unknown.out;
}

TEST(RunCommand, InvalidConfigExits1WithTheFindings) {
  const CommandRun run = inca_run(kData + "fabric.yaml " + kData + "unknown-host.yaml");
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_NE(run.out.find("unknown-host.yaml:5"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("nothing ran"), std::string::npos) << run.out;
}

TEST(RunCommand, UsageErrorsExit2) {
  EXPECT_EQ(inca_run(kData + "run-fabric.yaml").exit_code, 2);
  EXPECT_EQ(inca_run(kData + "run-fabric.yaml " + kData + "none.yaml").exit_code, 2);
  EXPECT_EQ(inca_run(kData + "run-fabric.yaml " + kData + "run-shared.yaml --format csv").exit_code,
            2);
}

}  // namespace
}  // namespace inca
