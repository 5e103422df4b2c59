// The timeline a World records (FabricOptions::trace): its JSON structure,
// the nesting of each rank's spans, and that what it adds up to equals the
// run's own counters.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <vector>

#include "inca/communicator.hpp"
#include "inca/world.hpp"
#include "support/trace_reader.hpp"
#include "test_support.hpp"
#include "udp/switch_process.hpp"

namespace inca {
namespace {

constexpr int kRanksPid = 1, kSwitchesPid = 2, kHostLinksPid = 3;

FabricOptions traced(const std::string& file, TraceDetail detail = TraceDetail::steps) {
  FabricOptions o;
  o.topology = TopologyKind::leaf_spine;
  o.ranks = 8;
  o.hosts_per_leaf = 4;
  o.spines = 2;
  o.trace.file = file;
  o.trace.detail = detail;
  return o;
}

// One all-reduce of `count` floats with each algorithm, checked exact.
void allreduce_each(World& world, std::size_t count, const std::vector<std::string>& algorithms) {
  ASSERT_TRUE(world
                  .run([&](Communicator& comm) {
                    for (const std::string& a : algorithms) {
                      std::vector<float> x(count, 1.0f + comm.rank()), y(count);
                      ASSERT_TRUE(comm.allreduce(x.data(), y.data(), count, Dtype::f32,
                                                 ReduceOp::sum, {.algorithm = a})
                                      .ok());
                      const float want = comm.size() * (comm.size() + 1) / 2.0f;
                      ASSERT_EQ(y.front(), want);
                      ASSERT_EQ(y.back(), want);
                    }
                  })
                  .ok());
}

TEST(FabricTrace, WritesChromeTraceEventJsonThatPerfettoReads) {
  udp::TempDir dir;
  const std::string file = dir.path() + "/t.json";
  {
    auto world = test::make_world(traced(file));
    allreduce_each(*world, 64 * 1024, {"innet", "ring"});
  }
  test::TraceReader trace(file);
  ASSERT_TRUE(trace.valid()) << trace.raw().substr(0, 200);
  // Perfetto reads otherData only at the start and stops at unknown keys.
  EXPECT_EQ(trace.raw().rfind("{\"otherData\":{", 0), 0u);
  std::size_t slices = 0, counters = 0;
  for (const auto& e : trace.events()) {
    ASSERT_TRUE(e.contains("ph")) << e.dump();
    const std::string ph = e["ph"];
    ASSERT_TRUE(ph == "M" || ph == "X" || ph == "C" || ph == "i") << e.dump();
    for (const auto& [key, value] : e.items()) ASSERT_FALSE(value.is_array()) << e.dump();
    if (ph == "M") continue;
    ASSERT_TRUE(e["ts"].is_number() && e["ts"].get<double>() >= 0) << e.dump();
    if (ph == "X") {
      ++slices;
      ASSERT_TRUE(e["dur"].is_number() && e["dur"].get<double>() >= 0) << e.dump();
      ASSERT_TRUE(e.contains("pid") && e.contains("tid") && e.contains("name")) << e.dump();
    }
    if (ph == "C") {
      ++counters;
      for (const auto& [key, value] : e["args"].items()) ASSERT_TRUE(value.is_number()) << e.dump();
    }
  }
  EXPECT_GT(slices, 0u);
  EXPECT_GT(counters, 0u);
}

TEST(FabricTrace, RankSpansNestCollectiveAttemptAndSteps) {
  udp::TempDir dir;
  const std::string file = dir.path() + "/t.json";
  {
    auto world = test::make_world(traced(file));
    allreduce_each(*world, 64 * 1024, {"innet", "ring"});
  }
  test::TraceReader trace(file);
  ASSERT_TRUE(trace.valid());
  for (int rank = 0; rank < 8; ++rank) {
    int violations = -1;
    const auto slices = trace.slices(kRanksPid, rank * 128, &violations);
    EXPECT_EQ(violations, 0) << "rank " << rank;
    std::vector<const test::TraceSlice*> collectives, attempts;
    for (const auto& s : slices) {
      if (s.depth == 0) collectives.push_back(&s);
      if (s.depth == 1) attempts.push_back(&s);
    }
    ASSERT_EQ(collectives.size(), 2u) << "rank " << rank;
    EXPECT_EQ(collectives[0]->name, "allreduce");
    EXPECT_EQ(collectives[0]->args["algorithm"], "innet");
    EXPECT_EQ(collectives[1]->args["algorithm"], "ring");
    EXPECT_EQ(collectives[1]->args["bytes"], 64 * 1024 * 4);
    ASSERT_EQ(attempts.size(), 2u);
    EXPECT_EQ(attempts[0]->name, "innet");
    EXPECT_EQ(attempts[1]->name, "ring");
    // Steps inside each attempt: the switch stream for innet; sends,
    // receives and reductions for the ring, 2(p-1) steps of one segment.
    std::map<std::string, int> innet_steps, ring_steps;
    for (const auto& s : slices) {
      if (s.category != "step") continue;
      const bool ring = s.begin >= attempts[1]->begin;
      const test::TraceSlice& attempt = *attempts[ring ? 1 : 0];
      EXPECT_TRUE(s.begin >= attempt.begin && s.end <= attempt.end) << s.name;
      (ring ? ring_steps : innet_steps)[s.name]++;
    }
    EXPECT_EQ(innet_steps, (std::map<std::string, int>{{"innet stream", 1}}));
    EXPECT_EQ(ring_steps["reduce"], 7 * 4);  // p-1 reduce-scatter steps of 4 chunks
    EXPECT_EQ(ring_steps["receive"], 14 * 4);
    EXPECT_EQ(ring_steps["send"], 14 * 4);
  }
}

TEST(FabricTrace, TotalsEqualTheRunsCounters) {
  udp::TempDir dir;
  const std::string file = dir.path() + "/t.json";
  std::vector<std::uint64_t> nic(8);
  WorldStats stats;
  {
    FabricOptions o = traced(file);
    o.faults.every_link.drop = 0.01;
    o.faults.seed = 7;
    auto world = test::make_world(o);
    allreduce_each(*world, 256 * 1024, {"innet", "ring"});
    for (std::uint32_t r = 0; r < 8; ++r) nic[r] = world->nic_tx_bytes(r);
    stats = world->stats();
  }
  test::TraceReader trace(file);
  ASSERT_TRUE(trace.valid());
  for (std::uint32_t r = 0; r < 8; ++r)
    EXPECT_EQ(trace.counter_sum(kHostLinksPid, "host" + std::to_string(r) + " -> ", "tx_bytes"),
              static_cast<double>(nic[r]))
        << "rank " << r;
  EXPECT_EQ(trace.counter_sum(kSwitchesPid, "", "contributions"),
            static_cast<double>(stats.switch_contributions));
  EXPECT_EQ(trace.counter_sum(kSwitchesPid, "", "results"),
            static_cast<double>(stats.switch_results));
  EXPECT_EQ(trace.counter_sum(kSwitchesPid, "", "duplicates"),
            static_cast<double>(stats.switch_duplicates));
  ASSERT_GT(stats.fault_dropped, 0u);
  EXPECT_EQ(trace.instants("packet dropped"), stats.fault_dropped);
  ASSERT_GT(stats.host_retransmissions, 0u);
  EXPECT_EQ(trace.instants("retransmit"), stats.host_retransmissions);
}

TEST(FabricTrace, DetailLevelsAddStepsThenPackets) {
  udp::TempDir dir;
  std::map<TraceDetail, std::string> files;
  WorldStats stats;
  for (TraceDetail d : {TraceDetail::collectives, TraceDetail::steps, TraceDetail::packets}) {
    files[d] = dir.path() + "/" + std::string(to_string(d)) + ".json";
    auto world = test::make_world(traced(files[d], d));
    allreduce_each(*world, 16 * 1024, {"ring"});
    stats = world->stats();
  }
  test::TraceReader collectives(files[TraceDetail::collectives]);
  test::TraceReader steps(files[TraceDetail::steps]);
  test::TraceReader packets(files[TraceDetail::packets]);
  EXPECT_EQ(collectives.slices_named(kRanksPid, "receive"), 0u);
  EXPECT_EQ(collectives.slices_named(kRanksPid, "allreduce"), 8u);
  EXPECT_GT(steps.slices_named(kRanksPid, "receive"), 0u);
  EXPECT_EQ(steps.slices_named(kHostLinksPid, "p2p"), 0u);
  // One slice per packet a host sent, on its uplink's track ("hostN -> ...").
  std::set<int> uplinks;
  for (const auto& e : packets.events())
    if (e["ph"] == "M" && e["name"] == "thread_name" && e["pid"] == kHostLinksPid &&
        e["args"]["name"].get<std::string>().rfind("host", 0) == 0)
      uplinks.insert(e["tid"].get<int>());
  std::uint64_t host_packets = 0;
  for (const auto& e : packets.events())
    if (e["ph"] == "X" && e["pid"] == kHostLinksPid && uplinks.count(e["tid"].get<int>()))
      ++host_packets;
  EXPECT_EQ(host_packets, stats.host_packets_sent);
}

TEST(FabricTrace, StopsAtItsSizeLimitAndSaysSo) {
  udp::TempDir dir;
  const std::string file = dir.path() + "/t.json";
  {
    FabricOptions o = traced(file);
    o.trace.max_bytes = 64 * 1024;
    auto world = test::make_world(o);
    allreduce_each(*world, 256 * 1024, {"ring"});
  }
  test::TraceReader trace(file);
  ASSERT_TRUE(trace.valid());
  EXPECT_LE(std::filesystem::file_size(file), 64u * 1024);
  EXPECT_EQ(trace.instants("trace truncated"), 1u);
}

TEST(FabricTrace, WorldsSharingAFilePlaceTheirRunsOneAfterTheOther) {
  udp::TempDir dir;
  const std::string file = dir.path() + "/t.json";
  {
    auto first = test::make_world(traced(file));
    auto second = test::make_world(traced(file));
    allreduce_each(*first, 4096, {"innet"});
    allreduce_each(*second, 4096, {"ring"});
  }
  test::TraceReader trace(file);
  ASSERT_TRUE(trace.valid());
  const auto slices = trace.slices(kRanksPid, 0);
  std::int64_t innet_end = 0, ring_begin = INT64_MAX;
  for (const auto& s : slices) {
    if (s.name != "allreduce") continue;
    if (s.args["algorithm"] == "innet") innet_end = s.end;
    if (s.args["algorithm"] == "ring") ring_begin = s.begin;
  }
  EXPECT_GT(innet_end, 0);
  EXPECT_GE(ring_begin, innet_end);
}

TEST(FabricTrace, NonBlockingCollectivesGetLanesOfTheirOwn) {
  udp::TempDir dir;
  const std::string file = dir.path() + "/t.json";
  {
    auto world = test::make_world(traced(file));
    ASSERT_TRUE(world
                    ->run([&](Communicator& comm) {
                      std::vector<float> a(4096, 1), b(4096, 1), ra(4096), rb(4096);
                      auto x = comm.iallreduce(a.data(), ra.data(), a.size(), Dtype::f32,
                                               ReduceOp::sum, {.algorithm = "ring"});
                      auto y = comm.iallreduce(b.data(), rb.data(), b.size(), Dtype::f32,
                                               ReduceOp::sum, {.algorithm = "ring"});
                      ASSERT_TRUE(x.ok() && y.ok());
                      ASSERT_TRUE(comm.wait(*x).ok());
                      ASSERT_TRUE(comm.wait(*y).ok());
                    })
                    .ok());
  }
  test::TraceReader trace(file);
  for (int lane = 1; lane <= 2; ++lane) {
    int violations = -1;
    const auto slices = trace.slices(kRanksPid, lane, &violations);
    EXPECT_EQ(violations, 0);
    ASSERT_FALSE(slices.empty()) << "lane " << lane;
    EXPECT_EQ(slices.front().name, "allreduce");
  }
  EXPECT_EQ(trace.slices(kRanksPid, 0).front().name, "wait");
}

TEST(FabricTrace, LiveFabricRecordsOnTheWallClock) {
  udp::TempDir dir;
  const std::string file = dir.path() + "/t.json";
  std::uint64_t nic0 = 0;
  {
    FabricOptions o = traced(file);
    o.fabric = FabricKind::live;
    o.ranks = 4;
    auto world = test::make_world(o);
    allreduce_each(*world, 16 * 1024, {"innet", "ring"});
    nic0 = world->nic_tx_bytes(0);
  }
  test::TraceReader trace(file);
  ASSERT_TRUE(trace.valid());
  EXPECT_NE(trace.raw().find("wall clock"), std::string::npos);
  EXPECT_EQ(trace.slices_named(kRanksPid, "allreduce"), 8u);
  EXPECT_EQ(trace.counter_sum(kHostLinksPid, "host0 -> ", "tx_bytes"), static_cast<double>(nic0));
}

TEST(FabricTrace, BadOptionsAreRefusedBeforeAnythingRuns) {
  FabricOptions o = traced("/nonexistent-dir/t.json");
  auto world = World::create(o);
  ASSERT_FALSE(world.ok());
  EXPECT_EQ(world.status().code(), StatusCode::io_error);
  EXPECT_NE(world.status().message().find("/nonexistent-dir/t.json"), std::string::npos);
  udp::TempDir dir;
  o = traced(dir.path() + "/t.json");
  o.trace.max_bytes = 1000;
  EXPECT_EQ(World::create(o).status().code(), StatusCode::invalid_argument);
  o.trace.max_bytes = 1 << 20;
  o.trace.interval = -1;
  EXPECT_EQ(World::create(o).status().code(), StatusCode::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/t.json"));
}

}  // namespace
}  // namespace inca
