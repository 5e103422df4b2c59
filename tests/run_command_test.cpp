// `inca run` as a user runs it: the JSON rows and lock intervals, the table,
// and the exit codes (0 exact, 1 invalid config with the validator's
// findings, 2 usage).
#include <gtest/gtest.h>

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
}

TEST(RunCommand, TableNamesEachJobAndWhy) {
  const CommandRun run = inca_run(kData + "run-fabric.yaml " + kData + "run-shared.yaml");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("slowdown"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("why:   low-latency tree"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("exact"), std::string::npos) << run.out;
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
