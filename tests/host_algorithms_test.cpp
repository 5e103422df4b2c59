// Every registered host all-reduce algorithm against a reference reduction,
// over rank counts that exercise the power-of-two fold and uneven segments.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "inca/algorithm.hpp"
#include "inca/communicator.hpp"
#include "inca/reduce.hpp"
#include "inca/world.hpp"

namespace inca {
namespace {

// Small integers: every summation order gives the same exact answer.
std::vector<std::int32_t> contribution(int rank, std::size_t count) {
  std::vector<std::int32_t> v(count);
  for (std::size_t i = 0; i < count; ++i)
    v[i] = static_cast<std::int32_t>((rank * 31 + i * 7) % 19) - 9;
  return v;
}

using Case = std::tuple<std::string, std::uint32_t, std::size_t>;

class HostAllreduce : public ::testing::TestWithParam<Case> {};

TEST_P(HostAllreduce, ExactForEveryRank) {
  const auto& [algorithm, ranks, count] = GetParam();
  FabricOptions options;
  options.topology = TopologyKind::leaf_spine;
  options.ranks = ranks;
  options.hosts_per_leaf = 3;
  auto world = World::create(options);
  ASSERT_TRUE(world.ok()) << world.status().to_string();
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::bxor}) {
    std::vector<std::int32_t> expected = contribution(0, count);
    for (std::uint32_t r = 1; r < ranks; ++r) {
      auto c = contribution(static_cast<int>(r), count);
      reduce_into(expected.data(), c.data(), count, Dtype::i32, op);
    }
    std::vector<std::string> failures(ranks);
    Status run = (*world)->run([&](Communicator& comm) {
      auto send = contribution(comm.rank(), count);
      std::vector<std::int32_t> recv(count, -1);
      Status s =
          comm.allreduce(send.data(), recv.data(), count, Dtype::i32, op, {.algorithm = algorithm});
      if (!s.ok())
        failures[comm.rank()] = s.to_string();
      else if (recv != expected)
        failures[comm.rank()] = "wrong result";
    });
    ASSERT_TRUE(run.ok()) << run.to_string();
    for (std::uint32_t r = 0; r < ranks; ++r)
      EXPECT_EQ(failures[r], "") << algorithm << " rank " << r << " of " << ranks << " op "
                                 << to_string(op) << " count " << count;
  }
}

TEST_P(HostAllreduce, InPlace) {
  const auto& [algorithm, ranks, count] = GetParam();
  FabricOptions options;
  options.topology = TopologyKind::star;
  options.ranks = ranks;
  auto world = World::create(options);
  ASSERT_TRUE(world.ok());
  std::vector<std::int32_t> expected = contribution(0, count);
  for (std::uint32_t r = 1; r < ranks; ++r) {
    auto c = contribution(static_cast<int>(r), count);
    reduce_into(expected.data(), c.data(), count, Dtype::i32, ReduceOp::sum);
  }
  int wrong = 0;
  Status run = (*world)->run([&](Communicator& comm) {
    auto buf = contribution(comm.rank(), count);
    Status s = comm.allreduce(buf.data(), buf.data(), count, Dtype::i32, ReduceOp::sum,
                              {.algorithm = algorithm});
    if (!s.ok() || buf != expected) ++wrong;
  });
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(wrong, 0);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, HostAllreduce,
                         ::testing::Combine(::testing::Values("ring", "recursive_doubling",
                                                              "rabenseifner", "binomial_tree"),
                                            ::testing::Values(1u, 2u, 3u, 5u, 7u, 8u, 64u),
                                            ::testing::Values(std::size_t{0}, std::size_t{1},
                                                              std::size_t{5}, std::size_t{7919})),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_r" +
                                  std::to_string(std::get<1>(info.param)) + "_n" +
                                  std::to_string(std::get<2>(info.param));
                         });

TEST(HostAllreduceRegistry, BuiltinsAreRegistered) {
  const auto names = allreduce_names();
  for (const char* n : {"innet", "ring", "recursive_doubling", "rabenseifner", "binomial_tree"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}

}  // namespace
}  // namespace inca
