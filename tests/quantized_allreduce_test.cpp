// The quantized in-network all-reduce (block floating point through int32
// switches): the exponent and shift rules, the error bound against an exact
// f64 reference, exactness where the values fit the grid, agreement on
// errors across ranks, and payload-free runs.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "algorithms/quantized_allreduce.hpp"
#include "inca/communicator.hpp"
#include "inca/world.hpp"
#include "test_support.hpp"

namespace inca {
namespace {

using algorithms::block_exponent;
using algorithms::quantization_shift;

TEST(QuantizedAllreduce, BlockExponentBoundsEveryValue) {
  const std::vector<float> v{0.75f, -3.0f, 1.5f};
  EXPECT_EQ(block_exponent(std::span<const float>(v)), 2);  // |x| < 4
  const std::vector<double> d{1.0, 0.0};
  EXPECT_EQ(block_exponent(std::span<const double>(d)), 1);  // 1 < 2^1
  const std::vector<float> zeros(5, 0.0f);
  EXPECT_EQ(block_exponent(std::span<const float>(zeros)), algorithms::kEmptyBlock);
  // 64 ranks need 6 bits of headroom: 30 - 6 - e.
  EXPECT_EQ(quantization_shift(2, 64), 22);
  EXPECT_EQ(quantization_shift(2, 65), 21);
  EXPECT_EQ(quantization_shift(0, 1), 30);
}

struct Outcome {
  std::vector<std::string> errors;
  std::vector<std::vector<float>> results;
};

Outcome run_quantized(World& world, const std::vector<std::vector<float>>& inputs) {
  Outcome o;
  o.errors.resize(world.size());
  o.results.resize(world.size());
  const std::size_t count = inputs.empty() ? 0 : inputs[0].size();
  Status run = world.run([&](Communicator& comm) {
    const auto r = static_cast<std::size_t>(comm.rank());
    std::vector<float> recv(count, -1.0f);
    Status s = comm.allreduce(inputs[r].data(), recv.data(), count, Dtype::f32, ReduceOp::sum,
                              {.algorithm = "innet_quantized"});
    if (!s.ok()) o.errors[r] = s.to_string();
    o.results[r] = std::move(recv);
  });
  if (!run.ok()) o.errors.assign(world.size(), run.to_string());
  return o;
}

// Values over many magnitudes, signs mixed, some blocks all zero.
std::vector<std::vector<float>> wide_inputs(std::uint32_t ranks, std::size_t count) {
  std::mt19937 gen(42);
  std::uniform_real_distribution<float> mantissa(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-20, 20);
  std::vector<std::vector<float>> in(ranks, std::vector<float>(count));
  for (auto& v : in)
    for (std::size_t i = 0; i < count; ++i)
      v[i] = (i / 512) % 7 == 3 ? 0.0f : std::ldexp(mantissa(gen), exponent(gen));
  return in;
}

TEST(QuantizedAllreduce, ErrorStaysWithinTheBlockBoundAgainstAnF64Reference) {
  for (std::uint32_t ranks : {2u, 3u, 8u}) {
    auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, ranks, 2));
    ASSERT_TRUE(world);
    const std::size_t count = 5000;  // ten blocks of 512, the last one short
    const auto inputs = wide_inputs(ranks, count);
    const Outcome o = run_quantized(*world, inputs);
    const std::size_t block = 2048 / sizeof(float);
    const int headroom = std::bit_width(ranks - 1);
    for (std::uint32_t r = 0; r < ranks; ++r) {
      ASSERT_EQ(o.errors[r], "") << ranks << " ranks";
      for (std::size_t i = 0; i < count; ++i) {
        double exact = 0;
        float largest = 0;
        for (std::uint32_t k = 0; k < ranks; ++k) exact += inputs[k][i];
        const std::size_t first = i / block * block;
        for (std::uint32_t k = 0; k < ranks; ++k)
          for (std::size_t j = first; j < std::min(first + block, count); ++j)
            largest = std::max(largest, std::abs(inputs[k][j]));
        int e = 0;
        std::frexp(largest, &e);
        // n roundings of half a unit of 2^(e + headroom - 30), then one to f32.
        const double bound = largest == 0 ? 0
                                          : ranks * 0.5 * std::ldexp(1.0, e + headroom - 30) +
                                                std::abs(exact) * 0x1p-24;
        ASSERT_LE(std::abs(o.results[r][i] - exact), bound)
            << ranks << " ranks, rank " << r << ", element " << i;
      }
      EXPECT_EQ(o.results[r], o.results[0]);  // every rank holds the same result
    }
  }
}

TEST(QuantizedAllreduce, ValuesOnTheGridAreExactAtSixtyFourRanks) {
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, 64, 8));
  ASSERT_TRUE(world);
  const std::size_t count = 1031;
  std::vector<std::vector<float>> inputs(64, std::vector<float>(count));
  for (std::uint32_t r = 0; r < 64; ++r)
    for (std::size_t i = 0; i < count; ++i)
      inputs[r][i] = static_cast<float>(static_cast<int>((r * 31 + i * 7) % 2001) - 1000) / 8;
  const Outcome o = run_quantized(*world, inputs);
  for (std::uint32_t r = 0; r < 64; ++r) {
    ASSERT_EQ(o.errors[r], "");
    for (std::size_t i = 0; i < count; ++i) {
      double exact = 0;
      for (std::uint32_t k = 0; k < 64; ++k) exact += inputs[k][i];
      ASSERT_EQ(o.results[r][i], static_cast<float>(exact)) << "rank " << r << " element " << i;
    }
  }
}

TEST(QuantizedAllreduce, ANonFiniteValueOnOneRankFailsEveryRankAlike) {
  auto world = test::make_world(test::small_fabric(TopologyKind::star, 4, 4));
  ASSERT_TRUE(world);
  auto inputs = wide_inputs(4, 1000);
  inputs[2][700] = std::numeric_limits<float>::infinity();
  const Outcome o = run_quantized(*world, inputs);
  for (const std::string& e : o.errors) {
    EXPECT_NE(e.find("invalid_argument"), std::string::npos) << e;
    EXPECT_NE(e.find("block 1"), std::string::npos) << e;
  }
  // The communicator still works afterwards.
  inputs[2][700] = 1.0f;
  for (const std::string& e : run_quantized(*world, inputs).errors) EXPECT_EQ(e, "");
}

TEST(QuantizedAllreduce, OnlySumsOfFloatsAreSupported) {
  auto world = test::make_world(test::small_fabric(TopologyKind::star, 2, 2));
  ASSERT_TRUE(world);
  Status run = world->run([&](Communicator& comm) {
    std::vector<float> f(8, 1.0f);
    std::vector<std::int32_t> i(8, 1);
    EXPECT_EQ(comm.allreduce(f.data(), f.data(), 8, Dtype::f32, ReduceOp::max,
                             {.algorithm = "innet_quantized"})
                  .code(),
              StatusCode::not_supported);
    EXPECT_EQ(comm.allreduce(i.data(), i.data(), 8, Dtype::i32, ReduceOp::sum,
                             {.algorithm = "innet_quantized"})
                  .code(),
              StatusCode::not_supported);
    std::vector<double> d(700, 0.125 * comm.rank());
    ASSERT_TRUE(comm.allreduce(d.data(), d.data(), d.size(), Dtype::f64, ReduceOp::sum,
                               {.algorithm = "innet_quantized"})
                    .ok());
    EXPECT_EQ(d[699], 0.125);
  });
  ASSERT_TRUE(run.ok()) << run.to_string();
}

TEST(QuantizedAllreduce, PayloadFreeRunsSendTheExponentRoundAndTheIntegers) {
  FabricOptions options = test::small_fabric(TopologyKind::star, 4, 4);
  options.timing_only = true;
  auto world = test::make_world(options);
  ASSERT_TRUE(world);
  const std::size_t count = 1 << 20;
  Status run = world->run([&](Communicator& comm) {
    ASSERT_TRUE(comm.allreduce(nullptr, nullptr, count, Dtype::f32, ReduceOp::sum,
                               {.algorithm = "innet_quantized"})
                    .ok());
  });
  ASSERT_TRUE(run.ok()) << run.to_string();
  // Per rank: 2048 chunks of int32 values plus the exponent round, 2048
  // int32 exponents in 4 chunks; the switch aggregated each once.
  EXPECT_EQ(world->stats().switch_contributions, 4u * (2048 + 4));
}

}  // namespace
}  // namespace inca
