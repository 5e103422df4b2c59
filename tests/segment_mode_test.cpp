// The simulator's segment mode (docs/model.md): a link books a segment as its
// packets pipelined, small payload-free runs agree with packet mode within
// 1% on far fewer events, the mode is refused where it cannot hold, and every
// bench row names the mode it ran in.
#include <gtest/gtest.h>

#include <string>

#include "bench_report.hpp"
#include "bench_sweep.hpp"
#include "inca/knobs.hpp"
#include "inca/world.hpp"
#include "link_pacer.hpp"

namespace inca::cli {
namespace {

TEST(SegmentMode, LinkBooksASegmentAsItsPacketsPipelined) {
  // 100 Gb/s: 80 ps per byte. Four 1000-B packets all ready at once leave
  // back to back, as four book() calls would.
  fabric::LinkPacer ready(100.0);
  EXPECT_EQ(ready.book_segment(0, 0, 4000, 1000), 320'000);
  // Queued behind them, the next starts when the link is free.
  EXPECT_EQ(ready.book_segment(0, 0, 4000, 1000), 640'000);
  // Packets that arrive slower than the link sends: the last leaves one
  // packet's time after it is ready (cut-through of the burst).
  fabric::LinkPacer late(100.0);
  EXPECT_EQ(late.book_segment(0, 1'000'000, 4000, 1000), 1'080'000);
  // The last packet is smaller (a message's remainder): it leaves its own
  // serialisation after it is ready.
  fabric::LinkPacer short_last(100.0);
  EXPECT_EQ(short_last.book_segment(0, 1'000'000, 4000, 100), 1'008'000);
  // One packet ready at once is an ordinary booking.
  fabric::LinkPacer one(100.0), plain(100.0);
  EXPECT_EQ(one.book_segment(5, 5, 1500, 1500), plain.book(5, 1500));
}

BenchOptions small_run(SimMode mode) {
  BenchOptions o;
  o.algorithms = {"innet", "ring", "rabenseifner", "binomial_tree"};
  o.fabric.ranks = 16;
  o.fabric.hosts_per_leaf = 4;
  o.fabric.spines = 4;
  o.fabric.sim_mode = mode;
  o.fabric.segment_packets = 16;
  o.min_bytes = o.max_bytes = 1 << 20;
  o.payload = PayloadMode::off;
  return o;
}

TEST(SegmentMode, AgreesWithPacketModeWithinOnePercentOnFewerEvents) {
  auto packets = run_bench(small_run(SimMode::packet));
  auto segments = run_bench(small_run(SimMode::segment));
  ASSERT_TRUE(packets.ok()) << packets.status().to_string();
  ASSERT_TRUE(segments.ok()) << segments.status().to_string();
  ASSERT_EQ(packets->rows.size(), 4u);
  ASSERT_EQ(segments->rows.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    const BenchRow &p = packets->rows[i], &s = segments->rows[i];
    SCOPED_TRACE(p.algorithm);
    EXPECT_EQ(p.model, SimMode::packet);
    EXPECT_EQ(s.model, SimMode::segment);
    EXPECT_NEAR(s.time_us, p.time_us, 0.01 * p.time_us);
    // The same bytes leave each NIC: a segment costs its packets' framing.
    EXPECT_EQ(s.nic_tx_bytes, p.nic_tx_bytes);
  }
  EXPECT_LT(segments->events * 4, packets->events);
}

// Point-to-point messages are cut into segments of p2p_segment_packets wire
// packets (finer than in-network chunks: docs/model.md, "Segment mode").
TEST(SegmentMode, PointToPointSegmentsHaveTheirOwnSize) {
  auto events = [](const char* algorithm, std::uint32_t p2p) {
    BenchOptions o = small_run(SimMode::segment);
    o.fabric.segment_packets = 64;
    o.fabric.p2p_segment_packets = p2p;
    o.algorithms = {algorithm};
    auto report = run_bench(o);
    EXPECT_TRUE(report.ok()) << report.status().to_string();
    return report.ok() ? report->events : 0;
  };
  // Rabenseifner's 512 KiB messages: 2 segments of 64 packets, 8 of 16, 32 of 4.
  const std::uint64_t coarse = events("rabenseifner", 64), fine = events("rabenseifner", 16),
                      finest = events("rabenseifner", 4);
  EXPECT_LT(coarse, fine);
  EXPECT_LT(fine, finest);
  // In-network chunks keep segment_packets.
  EXPECT_EQ(events("innet", 4), events("innet", 64));

  FabricOptions bad;
  bad.ranks = 4;
  bad.hosts_per_leaf = 4;
  bad.timing_only = true;
  bad.sim_mode = SimMode::segment;
  for (std::uint32_t p2p : {0u, 1025u}) {
    bad.p2p_segment_packets = p2p;
    auto world = World::create(bad);
    ASSERT_FALSE(world.ok()) << p2p;
    EXPECT_NE(world.status().message().find("p2p_segment_packets"), std::string::npos);
  }
}

// An in-network operation keeps 16 segments at least (docs/model.md): one of
// a few segments starts and drains in steps as coarse as itself.
TEST(SegmentMode, AnOperationOfAFewSegmentsIsCutFiner) {
  // Events per wire packet: 64 KiB = 32 chunks of 2 KiB go as 16 segments of
  // 2 chunks (not 2 of 16); 1 MiB = 512 chunks as 32 of 16.
  auto events = [](std::size_t bytes, SimMode mode) {
    BenchOptions o = small_run(mode);
    o.algorithms = {"innet"};
    o.min_bytes = o.max_bytes = bytes;
    auto report = run_bench(o);
    EXPECT_TRUE(report.ok()) << report.status().to_string();
    return report.ok() ? static_cast<double>(report->events) : 0.0;
  };
  const double small = events(64 * 1024, SimMode::segment) / events(64 * 1024, SimMode::packet);
  const double large = events(1 << 20, SimMode::segment) / events(1 << 20, SimMode::packet);
  EXPECT_GT(small, 0.3);
  EXPECT_LT(small, 0.7);
  EXPECT_LT(large, 0.1);

  // The two-tier all-reduce of 4 MiB on two gb300 racks: each shard tree
  // carries 58 KiB, 15 chunks in a window of 7; as two segments of 7 chunks
  // it was 2.8 % off packet mode.
  auto two_tier = [](SimMode mode) {
    BenchOptions t;
    t.fabric.preset = "gb300-nvl72-4608";
    t.fabric.ranks = 144;
    t.fabric.overrides.hosts = t.fabric.ranks;
    t.fabric.sim_mode = mode;
    t.algorithms = {"two_tier"};
    t.min_bytes = t.max_bytes = 4 << 20;
    t.payload = PayloadMode::off;
    return run_bench(t);
  };
  auto packets = two_tier(SimMode::packet), segments = two_tier(SimMode::segment);
  ASSERT_TRUE(packets.ok()) << packets.status().to_string();
  ASSERT_TRUE(segments.ok()) << segments.status().to_string();
  const double p = packets->rows.at(0).time_us, s = segments->rows.at(0).time_us;
  EXPECT_NEAR(s, p, 0.005 * p);
  EXPECT_LT(segments->events * 4, packets->events);
}

TEST(SegmentMode, RowsNameTheirModelInTableAndJson) {
  BenchOptions o = small_run(SimMode::segment);
  o.algorithms = {"innet"};
  o.min_bytes = o.max_bytes = 64 * 1024;
  auto report = run_bench(o);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  const std::string json = format_report(*report, o, ReportFormat::json);
  EXPECT_NE(json.find("\"model\": \"segment\""), std::string::npos) << json;
  const std::string table = format_report(*report, o, ReportFormat::table);
  EXPECT_NE(table.find("# model: segment (coarse)"), std::string::npos) << table;
  EXPECT_NE(table.find("(model segment)"), std::string::npos) << table;
  // CSV: the model is the last column, so readers by position keep working.
  const std::string csv = format_report(*report, o, ReportFormat::csv);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "bytes,count,dtype,op,algorithm,ranks,time_us,algbw_GBps,busbw_GBps,nic_tx_bytes,"
            "model_us,model");
  EXPECT_EQ(csv.substr(csv.rfind(',', csv.size() - 2)), ",segment\n") << csv;

  // Rows that carry data run packet by packet, and say so.
  o.payload = PayloadMode::automatic;
  auto mixed = run_bench(o);
  ASSERT_TRUE(mixed.ok()) << mixed.status().to_string();
  EXPECT_EQ(mixed->rows.at(0).model, SimMode::packet);
  EXPECT_NE(format_report(*mixed, o, ReportFormat::json).find("\"model\": \"packet\""),
            std::string::npos);
  const std::string mixed_csv = format_report(*mixed, o, ReportFormat::csv);
  EXPECT_EQ(mixed_csv.substr(mixed_csv.rfind(',', mixed_csv.size() - 2)), ",packet\n") << mixed_csv;
}

TEST(SegmentMode, RefusedWhereSegmentsCannotHold) {
  FabricOptions o;
  o.ranks = 4;
  o.hosts_per_leaf = 4;
  o.sim_mode = SimMode::segment;
  auto with_data = World::create(o);
  ASSERT_FALSE(with_data.ok());
  EXPECT_EQ(with_data.status().code(), StatusCode::invalid_argument);
  EXPECT_NE(with_data.status().message().find("payload-free"), std::string::npos);
  o.timing_only = true;
  o.segment_packets = 1;
  EXPECT_EQ(World::create(o).status().code(), StatusCode::invalid_argument);
  o.segment_packets = 8;
  EXPECT_TRUE(World::create(o).ok());
  o.faults.every_link.drop = 0.01;
  EXPECT_EQ(World::create(o).status().code(), StatusCode::invalid_argument);

  // The knob sets the mode by name and refuses others.
  FabricOptions knobbed;
  ASSERT_TRUE(apply_knob(knobbed, nullptr, "INCA_SIM_MODE", "segment").ok());
  EXPECT_EQ(knobbed.sim_mode, SimMode::segment);
  EXPECT_EQ(apply_knob(knobbed, nullptr, "INCA_SIM_MODE", "flow").code(), StatusCode::config_error);
}

}  // namespace
}  // namespace inca::cli
