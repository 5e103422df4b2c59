// The engine behind `inca run`: jobs of a job file at once on one simulated
// fabric and each alone, on the small fabric of tests/data/jobs/run-fabric.yaml.
#include "job_runner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "jobs/job_checks.hpp"

namespace inca::cli {
namespace {

const std::string kData = std::string(INCA_SOURCE_DIR) + "/tests/data/jobs/";

struct Loaded {
  FabricDescription fabric;
  JobSet jobs;
  std::vector<std::vector<std::uint32_t>> hosts;
};

Loaded load(const std::string& jobs_text) {
  FabricLoad f = FabricDescription::load(kData + "run-fabric.yaml");
  EXPECT_TRUE(f.ok());
  JobLoad j = JobSet::parse(jobs_text, "jobs.yaml");
  EXPECT_TRUE(j.ok()) << (j.diagnostics.empty() ? "" : j.diagnostics[0].to_string());
  Loaded l{*f.description, *j.jobs, {}};
  for (const jobs::JobSummary& s : jobs::check_jobs(l.fabric, l.jobs).summaries)
    l.hosts.push_back(s.hosts);
  return l;
}

std::string file_text(const std::string& name) {
  JobLoad j = JobSet::load(kData + name);
  EXPECT_TRUE(j.ok());
  std::ifstream in(kData + name);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

JobRunReport run(const Loaded& l, JobRunOptions o = {}) {
  auto report = run_jobs(l.fabric, l.jobs, l.hosts, o);
  EXPECT_TRUE(report.ok()) << report.status().to_string();
  return report.ok() ? *report : JobRunReport{};
}

TEST(JobRunner, TenantsSharingUplinksAreExactAndSlowerTogether) {
  const JobRunReport r = run(load(file_text("run-shared.yaml")));
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_TRUE(r.payload);
  for (const JobStepRow& row : r.rows) {
    EXPECT_EQ(row.check, "exact") << row.job;
    EXPECT_EQ(row.ranks, 4u);
    EXPECT_EQ(row.bytes, 65536u);
    EXPECT_GT(row.slowdown, 1.0) << row.job << " together " << row.time_us << " alone "
                                 << row.alone_us;
    EXPECT_DOUBLE_EQ(row.slowdown, row.time_us / row.alone_us);
    EXPECT_DOUBLE_EQ(row.algbw_GBps, 65536 / (row.time_us * 1e-6) / 1e9);
    EXPECT_DOUBLE_EQ(row.busbw_GBps, row.algbw_GBps * 2 * 3 / 4);
    EXPECT_NE(row.why.find("low-latency tree: 65536 B fit its 64 slots x 1024 B"),
              std::string::npos)
        << row.why;
    EXPECT_EQ(row.trees, "root spine0, 2 level(s), 3 switch(es)");
  }
  EXPECT_EQ(r.rows[0].tenant, "one");
  EXPECT_EQ(r.rows[1].dtype, Dtype::i32);
  EXPECT_EQ(r.rows[1].op, ReduceOp::max);
}

TEST(JobRunner, JobsOnDisjointHostsAndLinksRunAsFastAsAlone) {
  const JobRunReport r = run(load(file_text("run-disjoint.yaml")));
  ASSERT_EQ(r.rows.size(), 2u);
  for (const JobStepRow& row : r.rows) {
    EXPECT_EQ(row.check, "exact");
    EXPECT_GT(row.time_us, 0);
    EXPECT_DOUBLE_EQ(row.slowdown, 1.0) << row.job;
    EXPECT_EQ(row.algorithm, row.alone_algorithm);
  }
  EXPECT_EQ(r.rows[0].trees, "root leaf0, 1 level(s), 1 switch(es)");
  EXPECT_EQ(r.rows[1].trees, "root leaf1, 1 level(s), 1 switch(es)");
}

TEST(JobRunner, OneStreamingJobHoldsTheLockTheOtherFallsBackAndSaysWhy) {
  const JobRunReport r = run(load(file_text("run-streaming.yaml")));
  ASSERT_EQ(r.rows.size(), 2u);
  // Both start at once: whichever gets there first holds the lock throughout.
  ASSERT_EQ(r.locks.size(), 1u);
  EXPECT_LT(r.locks[0].from, r.locks[0].to);
  const bool a_holds = r.locks[0].job == "a";
  const JobStepRow& holder = r.rows[a_holds ? 0 : 1];
  const JobStepRow& other = r.rows[a_holds ? 1 : 0];
  EXPECT_EQ(holder.algorithm, "auto:innet");
  EXPECT_NE(holder.why.find("streaming tree: 262144 B above the low-latency limit of 16384 B"),
            std::string::npos)
      << holder.why;
  EXPECT_EQ(other.algorithm, "ring");
  EXPECT_NE(other.why.find("lock_failed"), std::string::npos) << other.why;
  EXPECT_NE(other.why.find("held by job '" + holder.job + "'"), std::string::npos) << other.why;
  // Alone, each holds the lock itself.
  EXPECT_EQ(other.alone_algorithm, "auto:innet");
  EXPECT_GT(other.slowdown, 1.0);
  for (const JobStepRow& row : r.rows) EXPECT_EQ(row.check, "exact");
}

TEST(JobRunner, AStreamingJobThatStartsLaterTakesTheLockAfterTheFirst) {
  std::string text = file_text("run-streaming.yaml");
  const std::string first = "start: 0us}";
  text.replace(text.rfind(first), first.size(), "start: 200us}");
  const JobRunReport r = run(load(text), {.alone = false});
  ASSERT_EQ(r.locks.size(), 2u);
  EXPECT_EQ(r.locks[0].job, "a");
  EXPECT_EQ(r.locks[1].job, "b");
  // Exactly one holds the lock at a time.
  EXPECT_LE(r.locks[0].to, r.locks[1].from);
  EXPECT_GE(r.rows[1].start_us, 200.0);
  for (const JobStepRow& row : r.rows) {
    EXPECT_EQ(row.algorithm, "auto:innet");
    EXPECT_EQ(row.alone_us, 0);
  }
}

TEST(JobRunner, PayloadOffRunsInTheSimModeAskedAndOnRefusesSegments) {
  const Loaded l = load(file_text("run-disjoint.yaml"));
  JobRunOptions o{.payload = PayloadMode::off, .alone = false};
  o.fabric.sim_mode = SimMode::segment;
  o.fabric.segment_packets = 4;
  const JobRunReport r = run(l, o);
  EXPECT_FALSE(r.payload);
  EXPECT_EQ(r.model, SimMode::segment);
  for (const JobStepRow& row : r.rows) {
    EXPECT_EQ(row.model, SimMode::segment);
    EXPECT_EQ(row.check, "timing");
  }
  // Within the budget, automatic carries data and so runs packet by packet.
  o.payload = PayloadMode::automatic;
  const JobRunReport with_data = run(l, o);
  EXPECT_TRUE(with_data.payload);
  EXPECT_EQ(with_data.model, SimMode::packet);
  EXPECT_EQ(with_data.rows.at(0).model, SimMode::packet);
  // Data asked for with segments is refused, not quietly changed.
  o.payload = PayloadMode::on;
  const auto refused = run_jobs(l.fabric, l.jobs, l.hosts, o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::invalid_argument);
}

TEST(JobRunner, AnAlgorithmAStepLacksIsInvalid) {
  const Loaded l = load(file_text("run-disjoint.yaml"));
  const auto r = run_jobs(l.fabric, l.jobs, l.hosts, {.algorithm = "no_such_algorithm"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::invalid_argument);
  EXPECT_NE(r.status().message().find("no_such_algorithm"), std::string::npos);
}

TEST(JobRunner, AboveTheDataBudgetTheRunIsPayloadFree) {
  const JobRunReport r = run(load(file_text("run-disjoint.yaml")), {.data_budget_bytes = 1024});
  EXPECT_FALSE(r.payload);
  for (const JobStepRow& row : r.rows) {
    EXPECT_EQ(row.check, "timing");
    EXPECT_GT(row.time_us, 0);
  }
}

}  // namespace
}  // namespace inca::cli
