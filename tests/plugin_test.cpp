// Algorithms from a shared library: the example plugin
// (examples/custom_algorithm/) loads, registers its algorithms once, and they
// run through Communicator::allreduce and the bench sweep like built-ins;
// bad paths fail with dlopen()'s message.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "bench_sweep.hpp"
#include "inca/algorithm.hpp"
#include "inca/communicator.hpp"
#include "inca/plugin.hpp"
#include "inca/world.hpp"

namespace inca {
namespace {

TEST(Plugin, RegistersItsAlgorithmsOnce) {
  ASSERT_TRUE(load_plugin(INCA_EXAMPLE_PLUGIN).ok());
  ASSERT_NE(find_allreduce("star"), nullptr);
  ASSERT_NE(find_allreduce("innet_or_star"), nullptr);
  EXPECT_TRUE(find_allreduce("innet_or_star")->uses_switches);
  // Again: the entry does not run twice, so no duplicate-name failure.
  EXPECT_TRUE(load_plugin(INCA_EXAMPLE_PLUGIN).ok());
}

TEST(Plugin, AlgorithmsRunThroughTheCommunicator) {
  ASSERT_TRUE(load_plugin(INCA_EXAMPLE_PLUGIN).ok());
  FabricOptions fabric;
  fabric.ranks = 7;
  fabric.hosts_per_leaf = 4;
  auto world = World::create(fabric);
  ASSERT_TRUE(world.ok()) << world.status().to_string();
  const std::size_t count = 3001;
  std::vector<std::int64_t> want(count, 0);
  for (int r = 0; r < 7; ++r)
    for (std::size_t i = 0; i < count; ++i) want[i] += r * 1000003 + static_cast<std::int64_t>(i);
  std::vector<std::string> errors(7);
  Status run = (*world)->run([&](Communicator& comm) {
    std::vector<std::int64_t> send(count), recv(count);
    for (std::size_t i = 0; i < count; ++i)
      send[i] = comm.rank() * 1000003 + static_cast<std::int64_t>(i);
    for (const char* algorithm : {"star", "innet_or_star"}) {
      std::fill(recv.begin(), recv.end(), 0);
      Status s = comm.allreduce(send.data(), recv.data(), count, Dtype::i64, ReduceOp::sum,
                                {.algorithm = algorithm});
      if (!s.ok())
        errors[comm.rank()] += s.to_string();
      else if (comm.last_algorithm() != algorithm)
        errors[comm.rank()] += "ran " + comm.last_algorithm();
      else if (std::memcmp(recv.data(), want.data(), count * 8) != 0)
        errors[comm.rank()] += std::string(algorithm) + " differs from the reference";
    }
  });
  ASSERT_TRUE(run.ok()) << run.to_string();
  for (int r = 0; r < 7; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

TEST(Plugin, BenchSweepsAPluginAlgorithm) {
  ASSERT_TRUE(load_plugin(INCA_EXAMPLE_PLUGIN).ok());
  cli::BenchOptions o;
  o.fabric.ranks = 5;
  o.fabric.hosts_per_leaf = 4;
  o.min_bytes = 8;
  o.max_bytes = 8192;
  o.step_factor = 32;
  o.payload = cli::PayloadMode::on;
  o.algorithms = {"star", "innet_or_star"};
  auto report = cli::run_bench(o);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_EQ(report->rows.size(), 6u);
  for (const cli::BenchRow& r : report->rows) EXPECT_EQ(r.check, "exact") << r.algorithm;
}

TEST(Plugin, BadPathsSayWhy) {
  Status missing = load_plugin("/nonexistent/libnothing.so");
  EXPECT_EQ(missing.code(), StatusCode::io_error);
  EXPECT_NE(missing.message().find("/nonexistent/libnothing.so"), std::string::npos);
  EXPECT_NE(missing.message().find("No such file"), std::string::npos) << missing.message();
  // A file that is not a shared library: dlopen() names the problem.
  Status not_elf = load_plugin(__FILE__);
  EXPECT_EQ(not_elf.code(), StatusCode::io_error);
  EXPECT_NE(not_elf.message().find(__FILE__), std::string::npos);
}

}  // namespace
}  // namespace inca
