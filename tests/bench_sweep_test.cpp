// The `inca bench` sweep for every collective: each row's result checked
// against the reference, nccl-tests' S and busbw factor, one barrier row per
// algorithm, and algorithm names that do not implement the collective.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench_report.hpp"
#include "bench_sweep.hpp"
#include "inca/collective.hpp"
#include "inca/reduce.hpp"

namespace inca::cli {
namespace {

BenchOptions small_sweep(Collective c, std::vector<std::string> algorithms) {
  BenchOptions o;
  o.collective = c;
  o.algorithms = std::move(algorithms);
  o.fabric.ranks = 6;  // not a power of two; two leaves
  o.fabric.hosts_per_leaf = 4;
  o.min_bytes = 8;
  o.max_bytes = 4096;
  o.step_factor = 8;
  o.payload = PayloadMode::on;
  return o;
}

class BenchCollective : public testing::TestWithParam<Collective> {};

TEST_P(BenchCollective, EveryRowExactWithItsBusbwFactor) {
  const Collective c = GetParam();
  const BenchOptions o = small_sweep(c, {"innet", std::string(host_algorithm(c)), "auto"});
  auto report = run_bench(o);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  // Sizes 8, 64, 512, 4096 (barrier: one row), each with three algorithms.
  const std::size_t sizes = c == Collective::barrier ? 1 : 4;
  ASSERT_EQ(report->rows.size(), sizes * 3);
  for (const BenchRow& r : report->rows) {
    SCOPED_TRACE(r.algorithm + " " + std::to_string(r.bytes));
    EXPECT_EQ(r.check, "exact");
    EXPECT_GT(r.time_us, 0);
    EXPECT_DOUBLE_EQ(r.busbw_GBps, r.algbw_GBps * busbw_factor(c, o.fabric.ranks));
    EXPECT_TRUE(r.model_us.has_value());
    if (c == Collective::barrier) {
      EXPECT_EQ(r.bytes, 0u);
      EXPECT_EQ(r.algbw_GBps, 0);
    } else {
      EXPECT_GT(r.algbw_GBps, 0);
      EXPECT_EQ(r.count * 4, r.bytes);
    }
    // Reduce-scatter and all-gather report S = n blocks.
    if (c == Collective::reduce_scatter || c == Collective::allgather) {
      EXPECT_EQ(r.bytes % (4 * o.fabric.ranks), 0u);
    }
  }
  EXPECT_EQ(report->rows[0].algorithm, "innet");
  EXPECT_EQ(report->rows[1].algorithm, host_algorithm(c));
  EXPECT_EQ(report->rows[2].algorithm.rfind("auto:", 0), 0u);
}

TEST_P(BenchCollective, PayloadFreeRowsAreTimingOnly) {
  const Collective c = GetParam();
  BenchOptions o = small_sweep(c, {"innet"});
  o.payload = PayloadMode::off;
  auto report = run_bench(o);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_EQ(report->rows.size(), c == Collective::barrier ? 1u : 4u);
  for (const BenchRow& r : report->rows)
    EXPECT_EQ(r.check, c == Collective::barrier ? "exact" : "timing");
}

INSTANTIATE_TEST_SUITE_P(Collectives, BenchCollective,
                         testing::Values(Collective::allreduce, Collective::reduce,
                                         Collective::broadcast, Collective::barrier,
                                         Collective::reduce_scatter, Collective::allgather),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(BenchSweep, ReproducibleRowsStayExactAndTakeTheSameTime) {
  BenchOptions o = small_sweep(Collective::allreduce, {"innet", "innet_quantized", "ring"});
  auto plain = run_bench(o);
  o.reproducible = true;
  auto fixed = run_bench(o);
  ASSERT_TRUE(plain.ok() && fixed.ok());
  ASSERT_EQ(plain->rows.size(), fixed->rows.size());
  for (std::size_t i = 0; i < fixed->rows.size(); ++i) {
    SCOPED_TRACE(fixed->rows[i].algorithm + " " + std::to_string(fixed->rows[i].bytes));
    EXPECT_EQ(fixed->rows[i].check,
              fixed->rows[i].algorithm == "innet_quantized" ? "quantized" : "exact");
    // Folding in child order waits for nothing extra when nothing is lost.
    EXPECT_EQ(fixed->rows[i].time_us, plain->rows[i].time_us);
  }
}

// Its set-up (two splits) runs before the clock starts: rows stay near the
// model (binomial steps of 8 B are modelled within 25 %).
TEST(BenchSweep, HierarchicalRowsAreExactAndLeaveTheSetUpOut) {
  auto report = run_bench(small_sweep(Collective::allreduce, {"hierarchical"}));
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_EQ(report->rows.size(), 4u);
  for (const BenchRow& r : report->rows) {
    SCOPED_TRACE(std::to_string(r.bytes));
    EXPECT_EQ(r.check, "exact");
    ASSERT_TRUE(r.model_us.has_value());
    EXPECT_NEAR(r.time_us / *r.model_us, 1.0, 0.3);
  }
}

TEST(BenchSweep, QuantizedRowsReportTheirErrorWithinTheBound) {
  BenchOptions o = small_sweep(Collective::allreduce, {"innet", "innet_quantized"});
  o.max_bytes = 64 << 10;  // several packets of 512 values
  o.quantized = true;
  auto report = run_bench(o);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_EQ(report->rows.size(), 5u * 2);  // 8 B .. 64 KiB by 8
  int quantized = 0;
  for (const BenchRow& r : report->rows) {
    SCOPED_TRACE(r.algorithm + " " + std::to_string(r.bytes));
    if (r.algorithm != "innet_quantized") {
      EXPECT_EQ(r.check, "exact");
      continue;
    }
    ++quantized;
    EXPECT_EQ(r.check, "quantized");
    EXPECT_NE(r.note.find("max error vs exact f64 sum"), std::string::npos) << r.note;
    EXPECT_TRUE(check_passed(r.check));
    ASSERT_TRUE(r.model_us.has_value());
    // Two tree passes: the values, then one exponent per packet block.
    EXPECT_GT(*r.model_us, 0);
    if (r.bytes >= 32768) {
      EXPECT_NEAR(r.time_us, *r.model_us, 0.1 * *r.model_us);
    }
  }
  EXPECT_EQ(quantized, 5);  // 8 B .. 64 KiB by 8
}

// Non-blocking rows: every outstanding collective's result is checked; the
// in-network ones take the tree in turn (K times one), latency-bound host
// ones overlap (well under K times one, the model's serial bound).
TEST_P(BenchCollective, OutstandingNonblockingRowsAreExactAndOverlap) {
  const Collective c = GetParam();
  BenchOptions one = small_sweep(c, {"innet", std::string(host_algorithm(c))});
  BenchOptions four = one;
  four.outstanding = 4;
  four.nonblocking = true;
  auto single = run_bench(one);
  auto several = run_bench(four);
  ASSERT_TRUE(single.ok()) << single.status().to_string();
  ASSERT_TRUE(several.ok()) << several.status().to_string();
  ASSERT_EQ(single->rows.size(), several->rows.size());
  for (std::size_t i = 0; i < several->rows.size(); ++i) {
    const BenchRow& a = single->rows[i];
    const BenchRow& k = several->rows[i];
    SCOPED_TRACE(k.algorithm + " " + std::to_string(k.bytes));
    EXPECT_EQ(k.check, "exact");
    ASSERT_TRUE(a.model_us && k.model_us);
    EXPECT_NEAR(*k.model_us, 4 * *a.model_us, 1e-6 * *k.model_us);
    if (k.algorithm == "innet") {
      EXPECT_GT(k.time_us, 3 * a.time_us);  // one after the other (their ends overlap a little)
    } else if (k.bytes <= 64) {
      EXPECT_LT(k.time_us, 2 * a.time_us);
    }
  }
}

TEST(BenchSweep, RejectsAlgorithmsThatDoNotImplementTheCollective) {
  auto bcast = run_bench(small_sweep(Collective::broadcast, {"ring"}));
  ASSERT_FALSE(bcast.ok());
  EXPECT_EQ(bcast.status().code(), StatusCode::invalid_argument);
  EXPECT_NE(bcast.status().message().find("binomial"), std::string::npos);
  auto allreduce = run_bench(small_sweep(Collective::allreduce, {"no_such_algorithm"}));
  ASSERT_FALSE(allreduce.ok());
  EXPECT_EQ(allreduce.status().code(), StatusCode::invalid_argument);
}

// Switches without f64: the pinned in-network row fails without sending a
// byte, and auto's rows fall back, exact, and say why.
TEST(BenchSweep, SwitchCapsShowInTheRows) {
  BenchOptions o = small_sweep(Collective::allreduce, {"innet", "auto"});
  o.dtype = Dtype::f64;
  o.fabric.switch_caps = SwitchCaps{}.without(Dtype::f64);
  auto report = run_bench(o);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_EQ(report->rows.size(), 4u * 2);
  for (const BenchRow& r : report->rows) {
    if (r.algorithm == "innet") {
      EXPECT_NE(r.check.find("not_supported"), std::string::npos) << r.check;
      EXPECT_EQ(r.nic_tx_bytes, 0u);
    } else {
      EXPECT_EQ(r.check, "exact");
      EXPECT_NE(r.note.find("do not aggregate f64 sum"), std::string::npos) << r.note;
    }
  }
}

TEST(BenchSweep, AllreduceTakesEveryRegisteredAlgorithm) {
  auto report = run_bench(small_sweep(
      Collective::allreduce, {"ring", "recursive_doubling", "rabenseifner", "binomial_tree"}));
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_EQ(report->rows.size(), 4u * 4);
  for (const BenchRow& r : report->rows) EXPECT_EQ(r.check, "exact") << r.algorithm;
}

// A result that lost one rank's contribution in one element, made through
// the bench's hook after a correct collective: the row's check must fail, for
// every op (with 6 ranks, 5 is the first count at which the old pattern's
// band reference was 0 everywhere).
TEST(BenchSweep, OneWrongElementFailsTheCheckForEveryOp) {
  for (const auto& [dtype, op] :
       std::vector<std::pair<Dtype, ReduceOp>>{{Dtype::i32, ReduceOp::sum},
                                               {Dtype::i32, ReduceOp::prod},
                                               {Dtype::i32, ReduceOp::min},
                                               {Dtype::i32, ReduceOp::max},
                                               {Dtype::i32, ReduceOp::band},
                                               {Dtype::i32, ReduceOp::bor},
                                               {Dtype::i32, ReduceOp::bxor},
                                               {Dtype::i32, ReduceOp::land},
                                               {Dtype::i32, ReduceOp::lor},
                                               {Dtype::i32, ReduceOp::lxor},
                                               {Dtype::f32, ReduceOp::sum},
                                               {Dtype::bf16, ReduceOp::max},
                                               {Dtype::f64, ReduceOp::min}}) {
    SCOPED_TRACE(fmt::format("{} {}", to_string(dtype), to_string(op)));
    BenchOptions o = small_sweep(Collective::allreduce, {"innet", "ring"});
    o.dtype = dtype;
    o.op = op;
    o.min_bytes = o.max_bytes = 4096;
    auto clean = run_bench(o);
    ASSERT_TRUE(clean.ok()) << clean.status().to_string();
    ASSERT_EQ(clean->rows.size(), 2u);
    for (const BenchRow& r : clean->rows) EXPECT_EQ(r.check, "exact") << r.algorithm;

    // Rank 1 keeps, in the first element where it makes a difference, the
    // reduction of every rank but one.
    bool broken = false;
    o.result_hook = [&](std::uint32_t rank, CollectiveData& d) {
      if (rank != 1) return;
      const std::size_t esize = dtype_size(dtype);
      const std::size_t count = d.reference.size() / esize;
      for (std::size_t e = 0; e < count; ++e)
        for (std::uint32_t left_out = 0; left_out < d.send.size(); ++left_out) {
          std::vector<std::byte> partial(esize);
          bool first = true;
          for (std::uint32_t r = 0; r < d.send.size(); ++r) {
            if (r == left_out) continue;
            if (first)
              std::memcpy(partial.data(), &d.send[r][e * esize], esize);
            else
              reduce_into(partial.data(), &d.send[r][e * esize], 1, dtype, op);
            first = false;
          }
          if (std::memcmp(partial.data(), &d.reference[e * esize], esize) == 0) continue;
          std::memcpy(&d.recv[1][e * esize], partial.data(), esize);
          broken = true;
          return;
        }
    };
    auto report = run_bench(o);
    ASSERT_TRUE(report.ok()) << report.status().to_string();
    ASSERT_EQ(report->rows.size(), 2u);
    EXPECT_TRUE(broken) << "no element depends on a single rank's contribution";
    for (const BenchRow& r : report->rows)
      EXPECT_EQ(r.check, "rank 1: result differs from the reference reduction") << r.algorithm;
  }
}

TEST(BenchSweep, InnetRowsSayWhenTheWindowBoundsThem) {
  // 2 slots in flight against a round trip of several chunk times: the
  // window sets the pace once a message has more chunks than that.
  BenchOptions o = small_sweep(Collective::allreduce, {"innet", "ring"});
  o.fabric.window = 2;
  o.min_bytes = 1024;
  o.max_bytes = 64 * 1024;
  o.step_factor = 64;
  o.payload = PayloadMode::off;
  auto report = run_bench(o);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_EQ(report->rows.size(), 4u);
  for (const BenchRow& r : report->rows) {
    SCOPED_TRACE(r.algorithm + " " + std::to_string(r.bytes));
    // One chunk fits any window; the ring has no window.
    const bool bound = r.algorithm == "innet" && r.bytes == 64 * 1024;
    EXPECT_EQ(r.note.find("window-bound: 2 chunks of"), bound ? 0u : std::string::npos) << r.note;
    if (bound) {
      EXPECT_NE(r.note.find("would cover the bandwidth-delay product"), std::string::npos);
    }
  }
  // The default window covers this fabric's round trip: no note.
  o.fabric.window = 64;
  report = run_bench(o);
  ASSERT_TRUE(report.ok());
  for (const BenchRow& r : report->rows) {
    EXPECT_EQ(r.note.find("window-bound"), std::string::npos);
  }
}

// --sim-mode analytic: each row is the cost model's time for what the
// simulator would run, labelled as such, and nothing runs.
TEST(BenchSweep, AnalyticRowsAreTheCostModelsTimeAndSaySo) {
  BenchOptions o = small_sweep(Collective::allreduce, {"innet", "ring", "rabenseifner"});
  o.min_bytes = 1024;
  o.max_bytes = 1 << 20;
  o.step_factor = 32;
  o.payload = PayloadMode::off;
  auto simulated = run_bench(o);
  ASSERT_TRUE(simulated.ok()) << simulated.status().to_string();
  o.analytic = true;
  auto analytic = run_bench(o);
  ASSERT_TRUE(analytic.ok()) << analytic.status().to_string();
  EXPECT_GT(simulated->events, 0u);
  EXPECT_EQ(analytic->events, 0u);
  ASSERT_EQ(analytic->rows.size(), simulated->rows.size());
  ASSERT_EQ(analytic->rows.size(), 9u);
  for (std::size_t i = 0; i < analytic->rows.size(); ++i) {
    const BenchRow &a = analytic->rows[i], &s = simulated->rows[i];
    SCOPED_TRACE(a.algorithm + " " + std::to_string(a.bytes));
    EXPECT_FALSE(s.analytic);
    EXPECT_TRUE(a.analytic);
    EXPECT_EQ(a.check, "analytic");
    ASSERT_TRUE(s.model_us.has_value());
    EXPECT_DOUBLE_EQ(a.time_us, *s.model_us);
    EXPECT_DOUBLE_EQ(*a.model_us, *s.model_us);
    // The model's ring charges every step the largest segment and the mean
    // path: its time is not the simulator's (innet's is, to the picosecond).
    if (a.algorithm == "ring") {
      EXPECT_NE(a.time_us, s.time_us);
    }
    EXPECT_DOUBLE_EQ(a.algbw_GBps, static_cast<double>(a.bytes) / a.time_us / 1e3);
    EXPECT_EQ(a.nic_tx_bytes, 0u);
    EXPECT_GT(s.nic_tx_bytes, 0u);
  }
  const auto json = nlohmann::json::parse(format_report(*analytic, o, ReportFormat::json));
  EXPECT_EQ(json.at(0)["model"], "analytic");
  EXPECT_TRUE(json.at(0)["nic_tx_bytes"].is_null());
  const std::string table = format_report(*analytic, o, ReportFormat::table);
  EXPECT_NE(table.find("# model: analytic: nothing simulated"), std::string::npos) << table;
  EXPECT_NE(table.find("analytic  (model analytic)"), std::string::npos) << table;
  const std::string csv = format_report(*analytic, o, ReportFormat::csv);
  EXPECT_EQ(csv.substr(csv.rfind(',', csv.size() - 2)), ",analytic\n") << csv;

  // What has no model is refused: auto chooses by running.
  o.algorithms = {"ring", "auto"};
  auto refused = run_bench(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::invalid_argument);
  EXPECT_NE(refused.status().message().find("auto has no cost model"), std::string::npos)
      << refused.status().message();
}

}  // namespace
}  // namespace inca::cli
