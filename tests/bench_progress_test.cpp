// Progress of a long `inca bench`: the line's wording, silence when stderr
// is no terminal or before the first 2 s, and a sweep that reports every
// row and every event to the meter.
#include "bench_progress.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "bench_sweep.hpp"

namespace inca::cli {
namespace {

TEST(BenchProgress, TheLineSaysRowsEventsRateAndTimeLeft) {
  ProgressState s;
  s.rows_done = 3;
  s.rows_total = 8;
  s.row = "innet 16777216 B";
  s.events = 12'600'000;
  s.elapsed_seconds = 9;
  s.fraction_done = 0.25;
  EXPECT_EQ(format_progress(s),
            "rows 3/8 (innet 16777216 B), 12.60 M events, 1.40 M events/s, 9 s elapsed, "
            "ETA 27 s");
  s.fraction_done = 0;  // nothing done yet: no estimate
  s.elapsed_seconds = 150;
  s.events = 900;
  EXPECT_EQ(format_progress(s),
            "rows 3/8 (innet 16777216 B), 900 events, 6 events/s, 2 min 30 s elapsed");
}

// A fake wall clock the test moves.
struct FakeClock {
  double now = 0;
  std::function<double()> fn() {
    return [this] { return now; };
  }
};

void drive(ProgressMeter& meter, FakeClock& clock) {
  meter.plan(2, 2.0);
  meter.row_started("ring 8 B", 1.0, 1000, 0, 0);
  clock.now = 1.0;
  meter.events(10, 500);
  clock.now = 3.0;
  meter.events(20, 500);
  clock.now = 3.1;  // within the refresh interval: no new line
  meter.events(30, 750);
  meter.row_finished(40);
}

TEST(BenchProgress, QuietWhenStderrIsNoTerminal) {
  std::ostringstream out;
  FakeClock clock;
  ProgressMeter meter(out, /*terminal=*/false, clock.fn());
  drive(meter, clock);
  meter.finish();
  EXPECT_EQ(out.str(), "");
  // It still keeps count.
  EXPECT_EQ(meter.state().rows_done, 1u);
  EXPECT_EQ(meter.state().events, 40u);
  EXPECT_DOUBLE_EQ(meter.state().fraction_done, 0.5);
}

TEST(BenchProgress, OnATerminalOneLineAfterTwoSecondsRewrittenInPlaceThenCleared) {
  std::ostringstream out;
  FakeClock clock;
  ProgressMeter meter(out, /*terminal=*/true, clock.fn());
  drive(meter, clock);
  // Only the event at 3 s printed: not before 2 s, not again within 0.5 s.
  // Half the row's expected virtual time passed: a quarter of the sweep.
  EXPECT_EQ(out.str(), "\r\033[Krows 0/2 (ring 8 B), 20 events, 7 events/s, 3 s elapsed, ETA 9 s");
  meter.finish();
  EXPECT_EQ(out.str().substr(out.str().size() - 4), "\r\033[K");
}

TEST(BenchProgress, ASweepReportsEveryRowAndEveryEvent) {
  std::ostringstream out;
  ProgressMeter meter(out, /*terminal=*/false);
  BenchOptions o;
  o.fabric.ranks = 16;
  o.fabric.hosts_per_leaf = 4;
  o.min_bytes = 8;
  o.max_bytes = 64 * 1024;
  o.step_factor = 64;
  o.algorithms = {"innet", "ring"};
  o.progress = &meter;
  auto report = run_bench(o);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_EQ(meter.state().rows_total, report->rows.size());
  EXPECT_EQ(meter.state().rows_done, report->rows.size());
  EXPECT_EQ(meter.state().events, report->events);
  EXPECT_DOUBLE_EQ(meter.state().fraction_done, 1.0);
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace inca::cli
