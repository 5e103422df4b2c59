// `inca validate` as a user runs it: one bad config per check (tests/data/
// jobs/), each finding with its message, line and severity, and the exit code
// (0 valid, warnings allowed; 1 invalid; 2 usage).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "inca_command.hpp"

namespace inca {
namespace {

const std::string kData = std::string(INCA_SOURCE_DIR) + "/tests/data/jobs/";

using test::CommandRun;

CommandRun inca_validate(const std::string& args) {
  return test::run_inca("validate " + args, "validate");
}

nlohmann::json findings_of(const std::string& jobs, int expected_exit) {
  const CommandRun run = inca_validate(kData + "fabric.yaml " + kData + jobs + " --format json");
  EXPECT_EQ(run.exit_code, expected_exit) << run.out;
  try {
    return nlohmann::json::parse(run.out);
  } catch (const std::exception&) {
    ADD_FAILURE() << "not JSON: " << run.out;
    return {};
  }
}

struct Expected {
  const char* file;
  int exit_code;
  const char* severity;
  int line;
  const char* message;
};

// One per check the validator makes.
const Expected kCases[] = {
    {"unknown-key.yaml", 1, "error", 4, "unknown key 'prority' in job 'a'"},
    {"priority-range.yaml", 1, "error", 4, "'priority' of job 'a' is 12, outside 0..9"},
    {"unknown-host.yaml", 1, "error", 5,
     "job 'a' is placed on host 'hots2', which the fabric does not have"},
    {"host-twice.yaml", 1, "error", 6, "job 'a' is placed on host 'host1' twice"},
    {"nic-shared.yaml", 1, "error", 6, "host 'host2' carries 2 jobs ('a', 'b'); at most 1 per NIC"},
    {"small-group.yaml", 1, "error", 5,
     "job 'a' has 3 rank(s); an in-network group needs at least 4"},
    {"payload.yaml", 1, "error", 6,
     "no_resource: job 'a': payload per slot 2048 B is above switch 'leaf0''s 1024 B"},
    {"quota.yaml", 1, "error", 7,
     "quota_exceeded: job 'a' needs 30 slots on switch 'leaf0'; priority 4's quota is 20% of "
     "100 = 20"},
    {"quota-sum.yaml", 1, "error", 7,
     "the quotas of the jobs on switch 'leaf0' add up to 120% ('a' 60%, 'b' 60%)"},
    {"quota-sum.yaml", 1, "error", 9,
     "no_resource: job 'b' needs 60 slots on switch 'leaf0', which has 40 of 100 free"},
    {"tree-limit.yaml", 1, "error", 8,
     "no_resource: job 'b' needs 2 low-latency tree(s) on switch 'leaf0', which holds 2 of its 3"},
    {"no-tree.yaml", 1, "error", 5,
     "no_tree: job 'a' asks for 7 tree(s) over its 8 hosts, but 6 aggregating switch(es) can "
     "root one"},
    {"lock-collision.yaml", 0, "warning", 8,
     "streaming jobs 'a' and 'b' cannot hold their locks at once: job 'b': the streaming lock on "
     "switch 'leaf0' is held by job 'a'; retry when it is released"},
    {"caps.yaml", 0, "warning", 7, "job 'a': allreduce of bf16 sum is outside its trees' caps"},
};

TEST(Validate, EachCheckReportsItsMessageLineAndExitCode) {
  for (const Expected& c : kCases) {
    SCOPED_TRACE(c.file);
    const nlohmann::json out = findings_of(c.file, c.exit_code);
    bool found = false;
    for (const auto& f : out["findings"])
      if (f["message"].get<std::string>().find(c.message) == 0) {
        found = true;
        EXPECT_EQ(f["line"], c.line) << f.dump();
        EXPECT_EQ(f["severity"], c.severity);
        EXPECT_EQ(f["file"], kData + c.file);
        // The loader's range errors say the range; every other finding hints.
        if (std::string(c.file) != "priority-range.yaml") {
          EXPECT_FALSE(f["hint"].get<std::string>().empty()) << f.dump();
        }
      }
    EXPECT_TRUE(found) << out.dump(2);
    EXPECT_EQ(out["valid"], c.exit_code == 0);
  }
}

TEST(Validate, AValidFileSummarisesWhatEachJobGets) {
  const CommandRun run = inca_validate(kData + "fabric.yaml " + kData + "good.yaml");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("job 'a' (tenant 'a', priority 0): 8 rank(s)\n"
                         "  tree:      root spine0, 2 level(s), 5 switch(es)\n"
                         "  tree:      root spine1, 2 level(s), 5 switch(es)\n"
                         "  low-latency trees serve messages up to 5120 B (10 slots x 512 B)\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("  streaming: off (not requested)\n"
                         "  fallback:  allreduce of 1048576 B: host ring"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("valid: 0 error(s), 0 warning(s)"), std::string::npos);
}

TEST(Validate, FabricAndJobProblemsComeInOnePassAsFileLineColumn) {
  // A fabric mistake (an MTU below header + slot payload) and job mistakes together.
  const std::string fabric =
      testing::TempDir() + "/bad-fabric-" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(fabric) << "inca_fabric: 1\n"
                           "topology:\n"
                           "  star:\n"
                           "    hosts: 4\n"
                           "    link: {mtu: 1KiB}\n";
  const CommandRun run = inca_validate(fabric + " " + kData + "many-mistakes.yaml");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find(fabric + ":3:3: error: link host0 - switch0: MTU 1024 B"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("MTU 1024 B cannot carry"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find(kData + "many-mistakes.yaml:9:22: error: 'allreduse' is no collective\n"
                                 "  hint: did you mean 'allreduce'?\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("invalid: 8 error(s)"), std::string::npos) << run.out;
  std::remove(fabric.c_str());
}

TEST(Validate, UsageErrorsExitTwo) {
  EXPECT_EQ(inca_validate("").exit_code, 2);
  EXPECT_EQ(inca_validate("no-such-fabric").exit_code, 2);
  EXPECT_EQ(inca_validate(kData + "fabric.yaml " + kData + "absent.yaml").exit_code, 2);
  EXPECT_EQ(inca_validate(kData + "fabric.yaml --format xml").exit_code, 2);
  // A preset by name, no jobs: valid.
  EXPECT_EQ(inca_validate("default-100g").exit_code, 0);
}

}  // namespace
}  // namespace inca

namespace inca {
namespace {

TEST(Validate, TheExampleJobFilesAreValidOnTheDefaultFabric) {
  for (const char* example : {"single-job.yaml", "two-tenants.yaml", "shared-uplinks.yaml"}) {
    const CommandRun run =
        inca_validate("default-100g " + std::string(INCA_SOURCE_DIR) + "/examples/jobs/" + example);
    EXPECT_EQ(run.exit_code, 0) << run.out;
    EXPECT_NE(run.out.find("valid: 0 error(s)"), std::string::npos) << run.out;
  }
}

}  // namespace
}  // namespace inca
