// The bench's input pattern: for every dtype and op at every rank count, the
// reduction is exact in any order, varies from element to element, and
// depends on every rank's data; and the receive buffers are poisoned so that
// no byte a collective leaves unwritten can match the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "bench_collectives.hpp"
#include "bench_pattern.hpp"
#include "inca/reduce.hpp"

namespace inca::cli {
namespace {

using Buffer = std::vector<std::byte>;

void expect_exact_varied_and_every_rank_matters(Dtype dtype, ReduceOp op, std::uint32_t p) {
  const std::size_t esize = dtype_size(dtype);
  const std::size_t count = std::max<std::size_t>(512, 2 * p);
  std::vector<Buffer> send(p, Buffer(count * esize));
  for (std::uint32_t r = 0; r < p; ++r) fill_bench_pattern(send[r].data(), count, dtype, op, r, p);
  // prefix[k] = send[0] op .. op send[k]; suffix[k] = send[k] op .. op send[p-1],
  // folded from the other end: a different order of the same reduction.
  std::vector<Buffer> prefix(send), suffix(send);
  for (std::uint32_t k = 1; k < p; ++k) {
    prefix[k] = prefix[k - 1];
    reduce_into(prefix[k].data(), send[k].data(), count, dtype, op);
  }
  for (std::uint32_t k = p - 1; k-- > 0;)
    reduce_into(suffix[k].data(), suffix[k + 1].data(), count, dtype, op);
  const Buffer& reference = prefix[p - 1];
  ASSERT_EQ(suffix[0], reference) << "the reduction depends on the order";

  // Not one value repeated: the reference varies between elements.
  bool varies = false;
  for (std::size_t i = 1; i < count && !varies; ++i)
    varies = std::memcmp(&reference[i * esize], &reference[0], esize) != 0;
  EXPECT_TRUE(varies) << "the reference is the same in every element";

  // Leaving out any one rank's contribution changes some element.
  for (std::uint32_t j = 0; j < p && p > 1; ++j) {
    Buffer without = j == 0 ? suffix[1] : prefix[j - 1];
    if (j != 0 && j + 1 < p) reduce_into(without.data(), suffix[j + 1].data(), count, dtype, op);
    EXPECT_NE(without, reference) << "rank " << j << "'s data never changes the result";
  }
}

// One test for the 108 valid pairs x 8 rank counts: a test process each
// would cost more than the checks.
TEST(BenchPattern, ExactInAnyOrderVariedAndEveryRankMattersForEveryPairAndRankCount) {
  for (Dtype d : all_dtypes())
    for (ReduceOp op : all_ops())
      if (op_supported(op, d))
        for (std::uint32_t p : {1u, 2u, 3u, 5u, 6u, 8u, 64u, 300u}) {
          SCOPED_TRACE(fmt::format("{} {} on {} ranks", to_string(d), to_string(op), p));
          expect_exact_varied_and_every_rank_matters(d, op, p);
        }
}

TEST(BenchPattern, ReceiveBuffersArePoisonedInEveryByte) {
  for (Collective c : {Collective::allreduce, Collective::reduce, Collective::broadcast,
                       Collective::reduce_scatter, Collective::allgather}) {
    SCOPED_TRACE(std::string(to_string(c)));
    const std::uint32_t ranks = 6;
    const CollectiveSize size = size_collective(c, 4096, 4, ranks);
    CollectiveData d =
        make_collective_data(c, size, ranks, Dtype::i32, ReduceOp::band, fill_bench_pattern);
    reset_collective_data(c, d);
    for (std::uint32_t r = 0; r < ranks; ++r) {
      if (c == Collective::broadcast && r == kBenchRoot) continue;  // holds the data it sends
      const std::byte* want = expected_result(c, r, d);
      for (std::size_t b = 0; b < d.recv[r].size(); ++b)
        ASSERT_NE(d.recv[r][b], want[b]) << "rank " << r << " byte " << b;
      if (c != Collective::reduce || r == kBenchRoot) {
        EXPECT_NE(check_collective(c, r, size, d), "");
      }
    }
  }
}

}  // namespace
}  // namespace inca::cli
