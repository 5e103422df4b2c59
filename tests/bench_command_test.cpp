// `inca bench --sim-mode analytic` as a user types it: the rows of the cost
// model, and the refusals where it would mislead (data it does not carry,
// faults it does not inject, `inca run`'s jobs side by side, `inca report`'s
// counters).
#include <gtest/gtest.h>

#include <string>

#include "inca_command.hpp"

namespace inca {
namespace {

using test::CommandRun;

CommandRun inca(const std::string& args) {
  return test::run_inca(args, "bench-command");
}

const std::string kSmall = " --ranks 16 --hosts-per-leaf 4 -b 1M -e 1M --sim-mode analytic";

TEST(BenchCommand, AnalyticModePrintsTheModelsRows) {
  const CommandRun run = inca("bench --algos innet,ring" + kSmall);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("# model: analytic: nothing simulated"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("ring    16"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("(model analytic)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("# nothing simulated:"), std::string::npos) << run.out;
}

TEST(BenchCommand, AnalyticModeRefusesWhatItCannotModel) {
  const struct {
    std::string args;
    std::string says;
  } cases[] = {
      {"bench" + kSmall + " --payload on", "carries and checks no data"},
      {"bench" + kSmall + " --drop 0.01", "injects no faults"},
      {"bench" + kSmall + " --algos auto", "auto has no cost model"},
      {"bench" + kSmall + " --fabric live", "needs the sim fabric"},
      {"run default-100g " + std::string(INCA_SOURCE_DIR) +
           "/examples/jobs/shared-uplinks.yaml --sim-mode analytic",
       "--sim-mode analytic is for inca bench"},
      {"report " + testing::TempDir() + "/analytic.html" + kSmall, "a report describes a"},
      {"bench" + kSmall.substr(0, kSmall.find(" --sim-mode")) + " --sim-mode model",
       "unknown --sim-mode 'model' (packet, segment, analytic)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args);
    const CommandRun run = inca(c.args);
    EXPECT_EQ(run.exit_code, 2) << run.out;
    EXPECT_NE(run.out.find(c.says), std::string::npos) << run.out;
  }
}

}  // namespace
}  // namespace inca
