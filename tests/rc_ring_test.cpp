// The host RC ring baseline on the emulated RDMA fabric: exact all-reduce
// for several sizes (blocks of zero elements too), dtypes and ops, repeated
// on the same buffer (registered once, then found in the cache), and a rank
// whose buffer differs in size is refused.
#include "verbs_transport/rc_ring.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "support/soft_rdma_fabric.hpp"

namespace inca::verbs {
namespace {

constexpr Time kTimeout = 5 * kPicosPerSecond;

class Ring {
 public:
  explicit Ring(std::uint32_t ranks) : fabric_(ranks) {
    for (std::uint32_t r = 0; r < ranks; ++r) {
      caches_.push_back(std::make_unique<RegistrationCache>(fabric_.nic(r)));
      rings_.push_back(std::make_unique<RcRing>(fabric_.nic(r), *caches_[r], r, ranks));
    }
    std::vector<RemoteRing> mailboxes;
    for (auto& ring : rings_) mailboxes.push_back(*ring->mailbox());
    for (std::uint32_t r = 0; r < ranks; ++r)
      EXPECT_TRUE(rings_[r]->start(mailboxes[(r + ranks - 1) % ranks]).ok());
  }
  ~Ring() {
    rings_.clear();  // before the caches they registered through
  }

  // Runs `program(rank, ring)` on every rank at once.
  void run(const std::function<void(std::uint32_t, RcRing&)>& program) {
    std::vector<std::thread> threads;
    for (std::uint32_t r = 0; r < rings_.size(); ++r)
      threads.emplace_back([&, r] { program(r, *rings_[r]); });
    for (auto& t : threads) t.join();
  }
  RegistrationCache& cache(std::uint32_t r) { return *caches_[r]; }

 private:
  test::SoftRdmaFabric fabric_;
  std::vector<std::unique_ptr<RegistrationCache>> caches_;
  std::vector<std::unique_ptr<RcRing>> rings_;
};

TEST(RcRing, AllreduceIsExactForEverySizeAndRankCount) {
  for (std::uint32_t ranks : {2u, 3u, 5u}) {
    Ring ring(ranks);
    for (std::size_t count :
         {std::size_t{1}, std::size_t{4}, std::size_t{1000}, std::size_t{65537}}) {
      ring.run([&](std::uint32_t r, RcRing& rc) {
        std::vector<std::int64_t> x(count);
        for (std::size_t i = 0; i < count; ++i) x[i] = static_cast<std::int64_t>(r * 100000 + i);
        ASSERT_TRUE(rc.allreduce(x.data(), count, Dtype::i64, ReduceOp::sum, kTimeout).ok());
        const std::int64_t base = 100000 * static_cast<std::int64_t>(ranks * (ranks - 1) / 2);
        for (std::size_t i = 0; i < count; ++i)
          ASSERT_EQ(x[i], base + static_cast<std::int64_t>(ranks * i))
              << ranks << " ranks, " << count << " elements, element " << i;
      });
    }
  }
}

TEST(RcRing, RepeatedCallsReuseTheRegistrationAndOtherOpsWork) {
  Ring ring(4);
  ring.run([&](std::uint32_t r, RcRing& rc) {
    std::vector<float> x(10000);
    for (int round = 0; round < 3; ++round) {
      for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = static_cast<float>((r + round) % 4) + static_cast<float>(i % 5);
      ASSERT_TRUE(rc.allreduce(x.data(), x.size(), Dtype::f32, ReduceOp::max, kTimeout).ok());
      for (std::size_t i = 0; i < x.size(); ++i)
        ASSERT_EQ(x[i], 3.0f + static_cast<float>(i % 5)) << "round " << round;
    }
  });
  for (std::uint32_t r = 0; r < 4; ++r) {
    // The buffer and the staging area: registered on the first call only.
    EXPECT_GE(ring.cache(r).hits(), 4u) << r;
    EXPECT_LE(ring.cache(r).misses(), 3u) << r;  // mailbox, buffer, staging
  }
}

TEST(RcRing, DifferentSizesAreAMismatch) {
  Ring ring(3);
  std::vector<Status> results(3);
  ring.run([&](std::uint32_t r, RcRing& rc) {
    std::vector<std::int32_t> x(r == 1 ? 50 : 60, 1);
    results[r] = rc.allreduce(x.data(), x.size(), Dtype::i32, ReduceOp::sum, 200 * kPicosPerMilli);
  });
  // Rank 0 reads rank 1's descriptor: its size differs.
  EXPECT_EQ(results[0].code(), StatusCode::mismatch) << results[0].to_string();
  for (const Status& s : results) EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace inca::verbs
