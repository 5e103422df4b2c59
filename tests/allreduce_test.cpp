// All-reduce through World and Communicator on the simulated fabric: exact
// results against reference reductions for every valid dtype x op pair, for
// awkward counts and rank counts, in place, and in reproducible mode against
// the reference folded in the algorithm's own order; plus determinism of
// virtual time and its independence from the payload.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "inca/communicator.hpp"
#include "inca/world.hpp"
#include "test_support.hpp"

namespace inca {
namespace {

using test::Bytes;

const char* const kAlgorithms[] = {"innet", "ring"};

// Every rank reduces exact_input() of its rank with `algorithm`; returns ""
// or the first failure, checked on every rank against the rank-order fold.
std::string check_allreduce(World& world, std::size_t count, Dtype dtype, ReduceOp op,
                            const std::string& algorithm) {
  std::vector<Bytes> inputs;
  for (std::uint32_t r = 0; r < world.size(); ++r)
    inputs.push_back(test::exact_input(count, dtype, op, r));
  const Bytes want = count ? test::fold_in_rank_order(inputs, count, dtype, op) : Bytes{};
  std::vector<std::string> errors(world.size());
  Status run = world.run([&](Communicator& comm) {
    const std::size_t r = static_cast<std::size_t>(comm.rank());
    Bytes recv(want.size(), std::byte{0xa5});
    Status s =
        comm.allreduce(inputs[r].data(), recv.data(), count, dtype, op, {.algorithm = algorithm});
    if (!s.ok())
      errors[r] = s.to_string();
    else if (comm.last_algorithm() != algorithm)
      errors[r] = "ran " + comm.last_algorithm();
    else
      errors[r] = test::first_difference(recv, want, dtype_size(dtype));
  });
  if (!run.ok()) return run.to_string();
  for (std::size_t r = 0; r < errors.size(); ++r)
    if (!errors[r].empty()) return "rank " + std::to_string(r) + ": " + errors[r];
  return "";
}

// Two leaves under a spine: the multi-level path for every pair.
TEST(Allreduce, EveryValidDtypeAndOpIsExactWithEveryAlgorithm) {
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, 4, 2));
  ASSERT_TRUE(world);
  ASSERT_EQ(world->tree_levels(), 2u);
  int pairs = 0;
  for (Dtype dtype : all_dtypes())
    for (ReduceOp op : all_ops()) {
      if (!op_supported(op, dtype)) continue;
      ++pairs;
      for (const char* algorithm : kAlgorithms)
        EXPECT_EQ(check_allreduce(*world, 1000, dtype, op, algorithm), "")
            << to_string(dtype) << " " << to_string(op) << " " << algorithm;
    }
  EXPECT_EQ(pairs, 12 * 10 - 4 * 3);  // bitwise ops are undefined on the 4 float types
}

// Slots hold 512 f32 / 256 f64 / 2048 u8; p2p fragments 4064 B.
TEST(Allreduce, AwkwardCountsAreExact) {
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, 3, 2));
  ASSERT_TRUE(world);
  for (std::size_t count : {0, 1, 2, 7, 255, 256, 257, 511, 512, 513, 1021, 2049, 7919})
    for (Dtype dtype : {Dtype::f32, Dtype::f64, Dtype::u8})
      for (const char* algorithm : kAlgorithms)
        EXPECT_EQ(check_allreduce(*world, count, dtype, ReduceOp::sum, algorithm), "")
            << count << " x " << to_string(dtype) << " " << algorithm;
}

TEST(Allreduce, SeveralMebibytesAreExact) {
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, 3, 2));
  ASSERT_TRUE(world);
  const std::size_t count = (3u << 20) / 4;  // 3 MiB of f32
  for (const char* algorithm : kAlgorithms)
    EXPECT_EQ(check_allreduce(*world, count, Dtype::f32, ReduceOp::sum, algorithm), "")
        << algorithm;
}

TEST(Allreduce, EveryRankCountOnStarAndUnevenLeafSpine) {
  for (TopologyKind kind : {TopologyKind::star, TopologyKind::leaf_spine})
    for (std::uint32_t ranks : {1u, 2u, 3u, 7u, 8u, 64u}) {
      auto world = test::make_world(test::small_fabric(kind, ranks, 3));
      ASSERT_TRUE(world);
      const std::uint32_t levels = kind == TopologyKind::star || ranks <= 3 ? 1 : 2;
      EXPECT_EQ(world->tree_levels(), levels) << to_string(kind) << " " << ranks;
      for (const char* algorithm : kAlgorithms)
        EXPECT_EQ(check_allreduce(*world, 1500, Dtype::i32, ReduceOp::sum, algorithm), "")
            << to_string(kind) << " " << ranks << " ranks " << algorithm;
    }
}

TEST(Allreduce, InPlaceIsExact) {
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, 5));
  ASSERT_TRUE(world);
  const std::size_t count = 3001;
  std::vector<Bytes> inputs;
  for (std::uint32_t r = 0; r < 5; ++r)
    inputs.push_back(test::exact_input(count, Dtype::f64, ReduceOp::sum, r));
  const Bytes want = test::fold_in_rank_order(inputs, count, Dtype::f64, ReduceOp::sum);
  for (const char* algorithm : kAlgorithms) {
    std::vector<std::string> errors(5);
    ASSERT_TRUE(world
                    ->run([&](Communicator& comm) {
                      Bytes buf = inputs[comm.rank()];
                      Status s = comm.allreduce(buf.data(), buf.data(), count, Dtype::f64,
                                                ReduceOp::sum, {.algorithm = algorithm});
                      errors[comm.rank()] =
                          s.ok() ? test::first_difference(buf, want, 8) : s.to_string();
                    })
                    .ok());
    for (int r = 0; r < 5; ++r) EXPECT_EQ(errors[r], "") << algorithm << " rank " << r;
  }
}

// ---- reproducible mode ----------------------------------------------------

// f32 values of wildly different magnitudes and both signs, so the
// association of a sum shows in the result bits.
std::vector<Bytes> order_sensitive_inputs(std::uint32_t ranks, std::size_t count) {
  std::vector<Bytes> out;
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  for (std::uint32_t r = 0; r < ranks; ++r) {
    std::vector<float> v(count);
    for (float& x : v) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const float mantissa = static_cast<float>((state >> 40) & 0xffff) / 65536.0f + 1.0f;
      const int exponent = static_cast<int>((state >> 20) % 48) - 16;
      x = std::ldexp((state >> 63) ? -mantissa : mantissa, exponent);
    }
    out.push_back(test::to_bytes(v));
  }
  return out;
}

// What every rank received, after checking all ranks agree bit for bit.
Bytes reduce_everywhere(World& world, const std::vector<Bytes>& inputs, std::size_t count,
                        const AllreduceOptions& options) {
  std::vector<Bytes> got(world.size());
  Status run = world.run([&](Communicator& comm) {
    Bytes recv(count * 4);
    Status s = comm.allreduce(inputs[comm.rank()].data(), recv.data(), count, Dtype::f32,
                              ReduceOp::sum, options);
    EXPECT_TRUE(s.ok()) << s.to_string();
    got[comm.rank()] = std::move(recv);
  });
  EXPECT_TRUE(run.ok());
  for (std::size_t r = 1; r < got.size(); ++r)
    EXPECT_EQ(test::first_difference(got[r], got[0], 4), "") << "rank " << r << " vs rank 0";
  return got[0];
}

// The manager puts a leaf's hosts in ascending order and the root's leaves in
// leaf order, so the tree folds each leaf's hosts, then the leaves' partials.
Bytes tree_order_reference(const std::vector<Bytes>& inputs, std::size_t count,
                           std::uint32_t hosts_per_leaf) {
  std::vector<Bytes> partials;
  for (std::size_t first = 0; first < inputs.size(); first += hosts_per_leaf) {
    std::vector<std::size_t> leaf(std::min<std::size_t>(hosts_per_leaf, inputs.size() - first));
    std::iota(leaf.begin(), leaf.end(), first);
    partials.push_back(test::fold(inputs, leaf, count, Dtype::f32, ReduceOp::sum));
  }
  return test::fold_in_rank_order(partials, count, Dtype::f32, ReduceOp::sum);
}

TEST(Allreduce, ReproducibleInnetFoldsInTreeOrder) {
  constexpr std::uint32_t kRanks = 7, kPerLeaf = 3;  // leaves of 3, 3 and 1 hosts
  constexpr std::size_t kCount = 2500;
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, kRanks, kPerLeaf));
  ASSERT_TRUE(world);
  const std::vector<Bytes> inputs = order_sensitive_inputs(kRanks, kCount);
  const Bytes want = tree_order_reference(inputs, kCount, kPerLeaf);
  ASSERT_NE(test::first_difference(
                want, test::fold_in_rank_order(inputs, kCount, Dtype::f32, ReduceOp::sum), 4),
            "")
      << "the data must tell tree order from rank order";
  for (int repeat = 0; repeat < 2; ++repeat) {
    const Bytes got =
        reduce_everywhere(*world, inputs, kCount, {.algorithm = "innet", .reproducible = true});
    EXPECT_EQ(test::first_difference(got, want, 4), "") << "repeat " << repeat;
  }
}

TEST(Allreduce, ReproducibleInnetOnAStarFoldsInRankOrder) {
  constexpr std::uint32_t kRanks = 6;
  constexpr std::size_t kCount = 1200;
  auto world = test::make_world(test::small_fabric(TopologyKind::star, kRanks));
  ASSERT_TRUE(world);
  const std::vector<Bytes> inputs = order_sensitive_inputs(kRanks, kCount);
  const Bytes got =
      reduce_everywhere(*world, inputs, kCount, {.algorithm = "innet", .reproducible = true});
  EXPECT_EQ(test::first_difference(
                got, test::fold_in_rank_order(inputs, kCount, Dtype::f32, ReduceOp::sum), 4),
            "");
}

// Packets held back and duplicated at random shuffle the order in which
// contributions reach each switch, differently per seed: reproducible mode
// still gives the tree-order bits every time, while plain mode, folding in
// arrival order, shows the shuffles took effect.
TEST(Allreduce, ReproducibleInnetIsBitIdenticalUnderShuffledArrivals) {
  constexpr std::uint32_t kRanks = 7, kPerLeaf = 3;
  constexpr std::size_t kCount = 3000;
  const std::vector<Bytes> inputs = order_sensitive_inputs(kRanks, kCount);
  const Bytes want = tree_order_reference(inputs, kCount, kPerLeaf);
  std::vector<Bytes> plain;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    FabricOptions options = test::small_fabric(TopologyKind::leaf_spine, kRanks, kPerLeaf);
    options.faults.seed = seed;
    options.faults.every_link.reorder = 0.3;
    options.faults.every_link.reorder_delay = 3 * kPicosPerMicro;
    options.faults.every_link.duplicate = 0.05;
    auto world = test::make_world(options);
    ASSERT_TRUE(world);
    const Bytes got =
        reduce_everywhere(*world, inputs, kCount, {.algorithm = "innet", .reproducible = true});
    EXPECT_EQ(test::first_difference(got, want, 4), "") << "seed " << seed;
    plain.push_back(reduce_everywhere(*world, inputs, kCount, {.algorithm = "innet"}));
    EXPECT_GT(world->stats().fault_reordered, 0u);
  }
  bool orders_differ = false;
  for (const Bytes& p : plain) orders_differ |= test::first_difference(p, want, 4) != "";
  EXPECT_TRUE(orders_differ) << "arrival-order folding never left the tree order";
}

// The ring reduces segment j (count / p elements, the first count % p one
// longer) starting at rank j and adding ranks j+1, j+2, ... around the ring.
TEST(Allreduce, RingFoldsEachSegmentAroundTheRingFromItsOwner) {
  constexpr std::uint32_t kRanks = 5;
  constexpr std::size_t kCount = 10007;
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, kRanks));
  ASSERT_TRUE(world);
  const std::vector<Bytes> inputs = order_sensitive_inputs(kRanks, kCount);
  Bytes want(kCount * 4);
  std::size_t first = 0;
  for (std::size_t j = 0; j < kRanks; ++j) {
    const std::size_t n = kCount / kRanks + (j < kCount % kRanks ? 1 : 0);
    std::vector<std::size_t> order(kRanks);
    for (std::size_t k = 0; k < kRanks; ++k) order[k] = (j + k) % kRanks;
    const Bytes seg = test::fold(inputs, order, kCount, Dtype::f32, ReduceOp::sum);
    std::memcpy(want.data() + first * 4, seg.data() + first * 4, n * 4);
    first += n;
  }
  for (bool reproducible : {false, true}) {
    const Bytes got = reduce_everywhere(*world, inputs, kCount,
                                        {.algorithm = "ring", .reproducible = reproducible});
    EXPECT_EQ(test::first_difference(got, want, 4), "") << "reproducible " << reproducible;
  }
}

// ---- virtual time ---------------------------------------------------------

struct Timeline {
  std::vector<Time> durations;  // per algorithm, common start to last finish
  std::vector<std::uint64_t> nic_bytes;
  std::uint64_t events = 0;
};

Timeline time_algorithms(const FabricOptions& options, std::size_t count) {
  Timeline t;
  auto world = test::make_world(options);
  if (!world) return t;
  Bytes send(options.timing_only ? 0 : count * 4), recv(send.size());
  for (const char* algorithm : kAlgorithms) {
    const Time start = world->now();
    const std::uint64_t tx = world->nic_tx_bytes(0);
    Time end = start;
    EXPECT_TRUE(world
                    ->run([&](Communicator& comm) {
                      Bytes mine = send, out = recv;
                      EXPECT_TRUE(comm.allreduce(mine.empty() ? nullptr : mine.data(),
                                                 out.empty() ? nullptr : out.data(), count,
                                                 Dtype::f32, ReduceOp::sum,
                                                 {.algorithm = algorithm})
                                      .ok());
                      end = std::max(end, comm.now());
                    })
                    .ok());
    t.durations.push_back(end - start);
    t.nic_bytes.push_back(world->nic_tx_bytes(0) - tx);
  }
  t.events = world->stats().events;
  return t;
}

TEST(Allreduce, IdenticalWorldsGiveIdenticalVirtualTimes) {
  const FabricOptions o = test::small_fabric(TopologyKind::leaf_spine, 8);
  const Timeline a = time_algorithms(o, 100000);
  const Timeline b = time_algorithms(o, 100000);
  ASSERT_EQ(a.durations.size(), 2u);
  EXPECT_GT(a.durations[0], 0);
  EXPECT_EQ(a.durations, b.durations);
  EXPECT_EQ(a.nic_bytes, b.nic_bytes);
  EXPECT_EQ(a.events, b.events);
}

TEST(Allreduce, TimingOnlyModeTakesTheSameVirtualTimeAsData) {
  FabricOptions o = test::small_fabric(TopologyKind::leaf_spine, 7);
  const Timeline data = time_algorithms(o, 50001);
  o.timing_only = true;
  const Timeline timing = time_algorithms(o, 50001);
  ASSERT_EQ(data.durations.size(), 2u);
  EXPECT_EQ(data.durations, timing.durations);
  EXPECT_EQ(data.nic_bytes, timing.nic_bytes);
}

}  // namespace
}  // namespace inca
