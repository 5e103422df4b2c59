// MINLOC / MAXLOC all-reduce: exact pairs (value and the smallest index among
// equal values) for pair types with and without padding, over rank counts
// 1..64; the pair reduction on its own; argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "inca/communicator.hpp"
#include "inca/loc.hpp"
#include "inca/world.hpp"
#include "protocol/host_driver.hpp"
#include "test_support.hpp"

namespace inca {
namespace {

// Few distinct values, so most elements tie across ranks and the index rule
// decides; the index a rank reports is not its rank, so that the test sees
// the pair travel whole.
template <typename T>
ValueIndex<T> contribution(std::uint32_t rank, std::size_t i) {
  return {static_cast<T>(static_cast<int>((rank * 7 + i * 3) % 5) - 2),
          static_cast<std::int32_t>(1000 - rank * 3 + i)};
}

template <typename T>
std::vector<ValueIndex<T>> reference(std::uint32_t ranks, std::size_t count, LocOp op) {
  std::vector<ValueIndex<T>> best(count);
  for (std::size_t i = 0; i < count; ++i) {
    best[i] = contribution<T>(0, i);
    for (std::uint32_t r = 1; r < ranks; ++r) {
      const ValueIndex<T> c = contribution<T>(r, i);
      const bool better = op == LocOp::minloc ? c.value < best[i].value : c.value > best[i].value;
      if (better || (c.value == best[i].value && c.index < best[i].index)) best[i] = c;
    }
  }
  return best;
}

template <typename T>
std::string check(World& world, std::size_t count, LocDtype dtype, LocOp op) {
  const auto want = reference<T>(world.size(), count, op);
  std::vector<std::string> errors(world.size());
  Status run = world.run([&](Communicator& comm) {
    std::vector<ValueIndex<T>> send(count), recv(count, ValueIndex<T>{T(99), -1});
    for (std::size_t i = 0; i < count; ++i)
      send[i] = contribution<T>(static_cast<std::uint32_t>(comm.rank()), i);
    Status s = comm.allreduce_loc(send.data(), recv.data(), count, dtype, op);
    std::string& e = errors[comm.rank()];
    if (!s.ok()) e = s.to_string();
    for (std::size_t i = 0; e.empty() && i < count; ++i)
      if (recv[i].value != want[i].value || recv[i].index != want[i].index)
        e = "element " + std::to_string(i) + ": got (" + std::to_string(recv[i].value) + ", " +
            std::to_string(recv[i].index) + "), want (" + std::to_string(want[i].value) + ", " +
            std::to_string(want[i].index) + ")";
  });
  if (!run.ok()) return run.to_string();
  for (std::size_t r = 0; r < errors.size(); ++r)
    if (!errors[r].empty()) return "rank " + std::to_string(r) + ": " + errors[r];
  return "";
}

class AllreduceLoc : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(AllreduceLoc, PairsAreExactForEveryRank) {
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, GetParam(), 3));
  ASSERT_TRUE(world);
  static_assert(sizeof(ValueIndex<double>) == 16);  // padded: the padding must not matter
  for (LocOp op : {LocOp::minloc, LocOp::maxloc})
    for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{777}}) {
      EXPECT_EQ(check<float>(*world, count, LocDtype::f32_i32, op), "")
          << to_string(op) << " f32 " << count;
      EXPECT_EQ(check<double>(*world, count, LocDtype::f64_i32, op), "")
          << to_string(op) << " f64 " << count;
      EXPECT_EQ(check<std::int32_t>(*world, count, LocDtype::i32_i32, op), "")
          << to_string(op) << " i32 " << count;
      EXPECT_EQ(check<std::int64_t>(*world, count, LocDtype::i64_i32, op), "")
          << to_string(op) << " i64 " << count;
    }
}

INSTANTIATE_TEST_SUITE_P(Ranks, AllreduceLoc, ::testing::Values(1u, 2u, 3u, 5u, 8u, 64u));

TEST(ReduceLoc, TiesKeepTheSmallerIndexAndNanNeverWins) {
  std::vector<ValueIndex<float>> acc = {{1, 5}, {2, 5}, {3, 5}, {std::nanf(""), 9}, {0, 1}};
  const std::vector<ValueIndex<float>> in = {{1, 4}, {2, 6}, {2, 7}, {4, 1}, {std::nanf(""), 0}};
  ASSERT_TRUE(
      reduce_loc_into(acc.data(), in.data(), acc.size(), LocDtype::f32_i32, LocOp::minloc).ok());
  EXPECT_EQ(acc[0].index, 4);
  EXPECT_EQ(acc[1].index, 5);
  EXPECT_EQ(acc[2].index, 7);
  EXPECT_EQ(acc[3].index, 9);  // NaN in acc: comparisons are false, acc stays
  EXPECT_EQ(acc[4].index, 1);
  EXPECT_EQ(
      reduce_loc_into(acc.data(), in.data(), 1, static_cast<LocDtype>(9), LocOp::minloc).code(),
      StatusCode::invalid_argument);
}

TEST(AllreduceLocErrors, BadArgumentsFailBeforeAnythingIsSent) {
  auto world = test::make_world(test::small_fabric(TopologyKind::star, 3));
  ASSERT_TRUE(world);
  std::vector<std::string> errors(3);
  Status run = world->run([&](Communicator& comm) {
    ValueIndex<float> x{1, comm.rank()}, y{};
    const std::uint64_t sent = comm.driver().endpoint().counters().packets_sent;
    Status a = comm.allreduce_loc(nullptr, &y, 1, LocDtype::f32_i32, LocOp::minloc);
    Status b = comm.allreduce_loc(&x, &y, 1, static_cast<LocDtype>(7), LocOp::minloc);
    if (a.code() != StatusCode::invalid_argument ||
        a.message().find("null buffer") == std::string::npos)
      errors[comm.rank()] = a.to_string();
    if (b.code() != StatusCode::invalid_argument) errors[comm.rank()] = b.to_string();
    if (comm.driver().endpoint().counters().packets_sent != sent) errors[comm.rank()] = "sent";
    Status ok = comm.allreduce_loc(&x, &y, 1, LocDtype::f32_i32, LocOp::maxloc);
    if (!ok.ok() || y.index != 0) errors[comm.rank()] = "after errors: " + ok.to_string();
  });
  ASSERT_TRUE(run.ok()) << run.to_string();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
}

}  // namespace
}  // namespace inca
