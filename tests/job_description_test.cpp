// Job files: what they say is what the description holds, and every mistake
// is reported in one pass at its line and column, with a hint.
#include "inca/job_description.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace inca {
namespace {

const std::string kData = std::string(INCA_SOURCE_DIR) + "/tests/data/jobs/";

const Diagnostic* find(const JobLoad& load, const std::string& text) {
  for (const Diagnostic& d : load.diagnostics)
    if (d.message.find(text) != std::string::npos) return &d;
  return nullptr;
}

TEST(JobFile, TheExamplesLoadWithWhatTheySay) {
  const JobLoad one = JobSet::load(std::string(INCA_SOURCE_DIR) + "/examples/jobs/single-job.yaml");
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one.jobs->jobs.size(), 1u);
  const JobDescription& j = one.jobs->jobs[0];
  EXPECT_EQ(j.name, "resnet");
  EXPECT_EQ(j.tenant, "vision-team");
  EXPECT_EQ(j.priority, 5u);
  EXPECT_EQ(j.placement.policy, PlacementPolicy::packed);
  EXPECT_EQ(j.placement.ranks, 16u);
  EXPECT_EQ(j.requests.slots, 48u);
  EXPECT_EQ(j.requests.payload_bytes, 1024u);
  EXPECT_EQ(j.requests.trees, 2u);
  EXPECT_TRUE(j.requests.streaming);
  EXPECT_EQ(j.requests.streaming_threshold, 16384u);
  ASSERT_EQ(j.workload.size(), 2u);
  EXPECT_EQ(j.workload[0].bytes, 8u);
  EXPECT_EQ(j.workload[0].repeat, 100u);
  EXPECT_EQ(j.workload[1].bytes, 64u << 20);
  EXPECT_EQ(j.workload[1].dtype, Dtype::bf16);
  EXPECT_EQ(j.workload[1].start, 50 * kPicosPerMicro);
  EXPECT_EQ(j.workload[1].where.line, 26);

  const JobLoad two =
      JobSet::load(std::string(INCA_SOURCE_DIR) + "/examples/jobs/two-tenants.yaml");
  ASSERT_TRUE(two.ok());
  const JobSet& s = *two.jobs;
  EXPECT_EQ(s.quota_percent[7], 40u);
  EXPECT_EQ(s.quota_percent[3], 20u);  // the default
  ASSERT_EQ(s.jobs.size(), 2u);
  EXPECT_EQ(s.jobs[1].placement.policy, PlacementPolicy::hosts);
  EXPECT_EQ(s.jobs[1].placement.hosts.size(), 8u);
  EXPECT_EQ(s.jobs[1].placement.hosts[4], "host56");
  EXPECT_EQ(s.jobs[1].workload[0].op, ReduceOp::max);
  EXPECT_EQ(s.jobs[1].tenant, "production");
}

TEST(JobFile, EveryMistakeIsReportedWithItsLineAndHint) {
  const JobLoad load = JobSet::load(kData + "many-mistakes.yaml");
  EXPECT_FALSE(load.ok());
  const Diagnostic* slots =
      find(load, "'slots' of the requests of job 'a' is 'ten', not a whole number");
  ASSERT_TRUE(slots);
  EXPECT_EQ(slots->where.line, 5);
  const Diagnostic* twice = find(load, "two jobs are named 'a'");
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->where.line, 6);
  const Diagnostic* ranks = find(load, "the placement of job 'a' needs 'ranks'");
  ASSERT_TRUE(ranks);
  EXPECT_EQ(ranks->where.line, 7);
  const Diagnostic* collective = find(load, "'allreduse' is no collective");
  ASSERT_TRUE(collective);
  EXPECT_EQ(collective->where.line, 9);
  EXPECT_EQ(collective->hint, "did you mean 'allreduce'?");
  EXPECT_EQ(load.diagnostics.size(), 4u);
}

TEST(JobFile, KeysValuesAndPoliciesAreCheckedAsFabricFilesAre) {
  const JobLoad key = JobSet::load(kData + "unknown-key.yaml");
  ASSERT_FALSE(key.ok());
  ASSERT_EQ(key.diagnostics.size(), 1u);
  EXPECT_EQ(key.diagnostics[0].to_string(),
            kData +
                "unknown-key.yaml:4:5: error: unknown key 'prority' in job 'a'\n"
                "  hint: did you mean 'priority'?");
  const JobLoad priority = JobSet::load(kData + "priority-range.yaml");
  ASSERT_TRUE(find(priority, "'priority' of job 'a' is 12, outside 0..9"));
  const JobLoad policy = JobSet::load(kData + "bad-policy.yaml");
  const Diagnostic* p = find(policy, "'pakced' is no placement policy");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->where.line, 5);
  EXPECT_EQ(p->hint, "did you mean 'packed'?");
  const JobLoad syntax = JobSet::load(kData + "syntax.yaml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.diagnostics.at(0).message.find("YAML syntax error"), std::string::npos);
  const JobLoad none = JobSet::parse("inca_jobs: 2\njobs: []\n", "v2.yaml");
  ASSERT_TRUE(find(none, "job format version 2 is not supported"));
  const JobLoad missing = JobSet::load(kData + "absent.yaml");
  ASSERT_TRUE(find(missing, "cannot open the job file"));
}

}  // namespace
}  // namespace inca
