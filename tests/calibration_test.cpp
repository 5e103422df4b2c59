// calibrate() and read_measurements(): a table the simulator produced with
// known host overheads, link latency and link rate is fitted back to them;
// every table format is read, and bad rows are refused with their line.
#include "inca/calibration.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "bench_command.hpp"
#include "udp/switch_process.hpp"

namespace inca {
namespace {

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

FabricOptions small_fabric() {
  FabricOptions o;
  o.ranks = 16;
  o.hosts_per_leaf = 4;
  o.spines = 2;
  return o;
}

// A sweep on 64 ranks, 8 per leaf, run with the truth: 1.5 us to send, 0.6 us
// to receive, 700 ns links at 200 Gb/s. Rows of (simulated time, model time)
// for ring, recursive doubling, Rabenseifner and the binomial tree, 8 B to
// 2 MiB. Eight spines make the leaf-spine non-blocking, two oversubscribe it 4:1.
struct TruthTable {
  std::vector<Measurement> simulated, modelled;
};

TruthTable truth_table(int spines) {
  std::ostringstream csv, err;
  const int status = cli::run_bench_command({"--spines",
                                             std::to_string(spines),
                                             "--algos",
                                             "ring,recursive_doubling,rabenseifner,binomial_tree",
                                             "-b",
                                             "8",
                                             "-e",
                                             "4M",
                                             "-f",
                                             "4",
                                             "--payload",
                                             "off",
                                             "--format",
                                             "csv",
                                             "--send-overhead-ns",
                                             "1500",
                                             "--recv-overhead-ns",
                                             "600",
                                             "--latency-ns",
                                             "700",
                                             "--link-gbps",
                                             "200"},
                                            csv, err);
  EXPECT_EQ(status, 0) << err.str();
  TruthTable out;
  std::istringstream lines(csv.str());
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(
      line,
      "bytes,count,dtype,op,algorithm,ranks,time_us,algbw_GBps,busbw_GBps,nic_tx_bytes,model_us,"
      "model");
  int number = 1;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
    ++number;
    const std::size_t bytes = std::stoull(f.at(0));
    out.simulated.push_back({bytes, f.at(4), std::stod(f.at(6)), number});
    out.modelled.push_back({bytes, f.at(4), std::stod(f.at(10)), number});
  }
  return out;
}

FabricOptions with_spines(std::uint32_t spines) {
  FabricOptions o;  // the start: no overheads, 500 ns links at 100 Gb/s
  o.spines = spines;
  return o;
}

// The fitter itself: from the model's own times it finds the truth.
TEST(Calibration, RecoversTheParametersFromModelTimes) {
  const TruthTable table = truth_table(2);
  ASSERT_EQ(table.modelled.size(), 4u * 10u);  // 8 B to 2 MiB by 4
  const FabricOptions options = with_spines(2);
  auto fabric = World::describe_fabric(options);
  ASSERT_TRUE(fabric.ok()) << fabric.status().message();
  auto fit = calibrate(*fabric, options, table.modelled);
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  EXPECT_NEAR(to_micros(fit->send_overhead) * 1000, 1500, 1500 * 0.005);
  EXPECT_NEAR(to_micros(fit->recv_overhead) * 1000, 600, 600 * 0.005);
  EXPECT_NEAR(to_micros(fit->latency) * 1000, 700, 700 * 0.005);
  EXPECT_NEAR(fit->rate_scale, 2.0, 2.0 * 0.005);
  EXPECT_NEAR(fit->host_gbps, 200, 1);
  EXPECT_LT(fit->rms_relative_error, 0.002);
  // All-reduce sends and receives alike: the larger overhead's side is the input's.
  EXPECT_FALSE(fit->overhead_split_identified);
  // The fitted description carries the values into every element.
  for (const HostDescription& h : fit->fabric.hosts) {
    EXPECT_EQ(h.timing.send_overhead, fit->send_overhead);
    EXPECT_EQ(h.timing.recv_overhead, fit->recv_overhead);
  }
  for (const LinkDescription& l : fit->fabric.links) EXPECT_EQ(l.latency, fit->latency);
}

// On an uncongested fabric the model follows the simulator closely enough
// that simulated times give every parameter back within 1%.
TEST(Calibration, RecoversTheSimulatorsParametersOnANonBlockingFabric) {
  const TruthTable table = truth_table(8);
  const FabricOptions options = with_spines(8);
  auto fabric = World::describe_fabric(options);
  ASSERT_TRUE(fabric.ok()) << fabric.status().message();
  auto fit = calibrate(*fabric, options, table.simulated);
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  EXPECT_NEAR(to_micros(fit->send_overhead) * 1000, 1500, 1500 * 0.01);
  EXPECT_NEAR(to_micros(fit->recv_overhead) * 1000, 600, 600 * 0.01);
  EXPECT_NEAR(to_micros(fit->latency) * 1000, 700, 700 * 0.01);
  EXPECT_NEAR(fit->rate_scale, 2.0, 2.0 * 0.01);
  EXPECT_LT(fit->rms_relative_error, 0.005);
}

// Oversubscribed 4:1, the model's own error against the simulator (a few
// percent, docs/model.md) blurs the receive overhead against the link
// latency; what a step costs stays pinned.
TEST(Calibration, PinsWhatSimulatedTimesShowOnAnOversubscribedFabric) {
  const TruthTable table = truth_table(2);
  const FabricOptions options = with_spines(2);
  auto fabric = World::describe_fabric(options);
  ASSERT_TRUE(fabric.ok()) << fabric.status().message();
  auto fit = calibrate(*fabric, options, table.simulated);
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  const double send = to_micros(fit->send_overhead) * 1000;
  const double recv = to_micros(fit->recv_overhead) * 1000;
  const double latency = to_micros(fit->latency) * 1000;
  EXPECT_NEAR(send, 1500, 1500 * 0.02);
  EXPECT_NEAR(fit->rate_scale, 2.0, 2.0 * 0.02);
  // A step between neighbours on one leaf: o_s + two links + o_r.
  EXPECT_NEAR(send + 2 * latency + recv, 1500 + 1400 + 600, 3500 * 0.02);
  EXPECT_NEAR(recv, 600, 600 * 0.15);
  EXPECT_NEAR(latency, 700, 700 * 0.10);
  EXPECT_LT(fit->rms_relative_error, 0.02);
  ASSERT_EQ(fit->rows.size(), table.simulated.size());
  for (const CalibrationRow& row : fit->rows)
    EXPECT_LT(std::abs(row.relative_error), 0.06)
        << row.measured.bytes << " " << row.measured.algorithm;
}

TEST(Calibration, FixedParametersStayAsTheFabricHasThem) {
  std::vector<Measurement> measured;
  for (std::size_t bytes : {8u, 1024u, 65536u, 1048576u})
    measured.push_back({bytes, "ring", 50.0 + bytes / 1e4, 1});
  const FabricOptions options = small_fabric();
  auto fabric = World::describe_fabric(options);
  ASSERT_TRUE(fabric.ok());
  CalibrationSettings only_latency;
  only_latency.fit_overhead = only_latency.fit_rate = false;
  auto fit = calibrate(*fabric, options, measured, only_latency);
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  EXPECT_EQ(fit->send_overhead, 0);
  EXPECT_EQ(fit->recv_overhead, 0);
  EXPECT_DOUBLE_EQ(fit->rate_scale, 1.0);
  EXPECT_NE(fit->latency, options.latency);
}

TEST(Calibration, RefusesWhatItCannotFit) {
  const FabricOptions options = small_fabric();
  auto fabric = World::describe_fabric(options);
  ASSERT_TRUE(fabric.ok());
  EXPECT_EQ(calibrate(*fabric, options, {}).status().code(), StatusCode::invalid_argument);
  const std::vector<Measurement> two = {{8, "ring", 10, 1}, {1024, "ring", 12, 2}};
  auto too_few = calibrate(*fabric, options, two);
  EXPECT_EQ(too_few.status().code(), StatusCode::invalid_argument);
  EXPECT_NE(too_few.status().message().find("2 measurements cannot fix 4 parameters"),
            std::string::npos)
      << too_few.status().message();
  const std::vector<Measurement> unknown = {{8, "no_such_algorithm", 10, 7},
                                            {16, "ring", 10, 8},
                                            {32, "ring", 10, 9},
                                            {64, "ring", 10, 10}};
  auto no_model = calibrate(*fabric, options, unknown);
  EXPECT_EQ(no_model.status().code(), StatusCode::invalid_argument);
  EXPECT_NE(no_model.status().message().find("line 7"), std::string::npos)
      << no_model.status().message();
}

TEST(MeasurementReader, ReadsOsuOutput) {
  udp::TempDir dir;
  const std::string path = write(dir.path(), "osu.txt",
                                 "# OSU MPI Allreduce Latency Test v7.1\n"
                                 "# Size       Avg Latency(us)\n"
                                 "4                       1.85\n"
                                 "8                       1.90\n"
                                 "1048576               210.44\n");
  auto rows = read_measurements(path, "recursive_doubling");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[2].bytes, 1048576u);
  EXPECT_DOUBLE_EQ((*rows)[2].time_us, 210.44);
  EXPECT_EQ((*rows)[2].algorithm, "recursive_doubling");
  EXPECT_EQ((*rows)[2].line, 5);
}

TEST(MeasurementReader, ReadsNcclTestsOutputTakingTheOutOfPlaceTime) {
  udp::TempDir dir;
  const std::string path = write(dir.path(), "nccl.txt",
                                 "#                                                              "
                                 "out-of-place                       in-place\n"
                                 "#       size         count      type   redop    root     time   "
                                 "algbw   busbw #wrong     time   algbw   busbw #wrong\n"
                                 "#        (B)    (elements)                               (us)  "
                                 "(GB/s)  (GB/s)            (us)  (GB/s)  (GB/s)\n"
                                 "           8             2     float     sum      -1    33.10    "
                                 "0.00    0.00      0    32.70    0.00    0.00      0\n"
                                 "     1048576        262144     float     sum      -1    95.20   "
                                 "11.01   20.65      0    94.80   11.06   20.74      0\n");
  auto rows = read_measurements(path);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].bytes, 8u);
  EXPECT_DOUBLE_EQ((*rows)[0].time_us, 33.10);
  EXPECT_DOUBLE_EQ((*rows)[1].time_us, 95.20);
  EXPECT_EQ((*rows)[1].algorithm, "ring");
}

TEST(MeasurementReader, ReadsCsvAndJsonWithTheirAlgorithms) {
  udp::TempDir dir;
  auto csv = read_measurements(
      write(dir.path(), "t.csv", "algorithm,bytes,time_us\nauto:innet,8,3.5\nring,64,9\n"));
  ASSERT_TRUE(csv.ok()) << csv.status().message();
  ASSERT_EQ(csv->size(), 2u);
  EXPECT_EQ((*csv)[0].algorithm, "innet");
  EXPECT_EQ((*csv)[1].bytes, 64u);
  auto json = read_measurements(write(
      dir.path(), "t.json", R"({"rows": [{"bytes": 8, "time_us": 2.5, "algorithm": "ring"}]})"));
  ASSERT_TRUE(json.ok()) << json.status().message();
  EXPECT_DOUBLE_EQ((*json)[0].time_us, 2.5);
}

TEST(MeasurementReader, NamesTheLineOfEveryBadRow) {
  udp::TempDir dir;
  struct Case {
    std::string text, expected;
  };
  const std::vector<Case> cases = {
      {"bytes,when\n8,1\n", "t:1: a CSV header needs"},
      {"bytes,time_us\n8,1\n16\n", "t:3: fewer columns"},
      {"bytes,time_us\n8,fast\n", "t:2: size and time must be numbers"},
      {"# osu\n8 1.0\n16 -2\n", "t:3: a time must be above zero"},
      {"8 1.0\nhello world\n", "t:2: not a row of osu_allreduce"},
      {"# nothing\n", "no measurements"},
      {"[{\"bytes\": 8}]", "row 1 has no numeric 'bytes' and 'time_us'"},
      {"{ not json", "not JSON"},
  };
  for (const Case& c : cases) {
    const std::string path = write(dir.path(), "t", c.text);
    auto rows = read_measurements(path);
    ASSERT_FALSE(rows.ok()) << c.text;
    EXPECT_EQ(rows.status().code(), StatusCode::config_error);
    const std::string message = rows.status().message();
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
  }
  EXPECT_EQ(read_measurements(dir.path() + "/missing").status().code(), StatusCode::config_error);
}

}  // namespace
}  // namespace inca
