// Non-blocking collectives: every collective started at once and completed
// in an order that differs between ranks is exact (in-network, host and auto,
// rank counts 1..64, on the simulator and on the threaded live fabric);
// collectives progress while the rank computes and complete out of order;
// in-network ones share the tree in start order; argument errors come back at
// once and send nothing; bad requests are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "inca/collective.hpp"
#include "inca/communicator.hpp"
#include "inca/world.hpp"
#include "protocol/host_driver.hpp"
#include "test_support.hpp"

namespace inca {
namespace {

using test::Bytes;

using Failures = test::RankFailures;

// Inputs and expected results of the six collectives, for `ranks` ranks.
struct Expected {
  static constexpr std::size_t kCount = 257;  // several in-network chunks, not a multiple
  static constexpr int kRoot = 1;
  explicit Expected(std::uint32_t ranks) {
    for (std::uint32_t r = 0; r < ranks; ++r) {
      sum_in.push_back(test::exact_input(kCount, Dtype::i32, ReduceOp::sum, r));
      max_in.push_back(test::exact_input(kCount, Dtype::f32, ReduceOp::max, r));
      scatter_in.push_back(test::exact_input(kCount * ranks, Dtype::i32, ReduceOp::sum, r));
      gather_in.push_back(test::exact_input(kCount, Dtype::u8, ReduceOp::bor, r));
    }
    sum = test::fold_in_rank_order(sum_in, kCount, Dtype::i32, ReduceOp::sum);
    max = test::fold_in_rank_order(max_in, kCount, Dtype::f32, ReduceOp::max);
    scattered = test::fold_in_rank_order(scatter_in, kCount * ranks, Dtype::i32, ReduceOp::sum);
    for (const Bytes& b : gather_in) gathered.insert(gathered.end(), b.begin(), b.end());
    root = std::min<int>(kRoot, static_cast<int>(ranks) - 1);
  }
  std::vector<Bytes> sum_in, max_in, scatter_in, gather_in;
  Bytes sum, max, scattered, gathered;
  int root = 0;
};

// One rank: starts all six collectives back to back, then completes them in
// an order that depends on the rank, and checks every result.
void run_all_six(Communicator& comm, const Expected& e, const std::string& algorithm,
                 Failures& failures) {
  const int r = comm.rank();
  const std::size_t n = Expected::kCount;
  const std::size_t p = static_cast<std::size_t>(comm.size());
  Bytes allreduce_out(e.sum.size()), reduce_out(e.max.size()), bcast = e.sum_in[r];
  Bytes scatter_out(n * 4), gather_out(e.gathered.size());
  const AllreduceOptions ar{.algorithm = algorithm};
  const CollectiveOptions co{.algorithm = algorithm};
  std::vector<std::pair<std::string, Result<Request>>> started;
  started.emplace_back("iallreduce", comm.iallreduce(e.sum_in[r].data(), allreduce_out.data(), n,
                                                     Dtype::i32, ReduceOp::sum, ar));
  started.emplace_back("ireduce", comm.ireduce(e.max_in[r].data(), reduce_out.data(), n, Dtype::f32,
                                               ReduceOp::max, e.root, co));
  started.emplace_back("ibroadcast", comm.ibroadcast(bcast.data(), n, Dtype::i32, e.root, co));
  started.emplace_back("ibarrier", comm.ibarrier(co));
  started.emplace_back("ireduce_scatter",
                       comm.ireduce_scatter(e.scatter_in[r].data(), scatter_out.data(), n,
                                            Dtype::i32, ReduceOp::sum, co));
  started.emplace_back("iallgather",
                       comm.iallgather(e.gather_in[r].data(), gather_out.data(), n, Dtype::u8, co));
  std::vector<std::size_t> order(started.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::rotate(order.begin(), order.begin() + r % order.size(), order.end());
  if (r % 2) std::reverse(order.begin(), order.end());
  for (std::size_t k : order) {
    auto& [what, request] = started[k];
    if (!request.ok()) {
      failures.check(r, request.status(), what);
      continue;
    }
    failures.check(r, comm.wait(*request), what);
  }
  const std::size_t esize = 4;
  failures.set(r, test::first_difference(allreduce_out, e.sum, esize));
  if (r == e.root) failures.set(r, test::first_difference(reduce_out, e.max, esize));
  failures.set(r, test::first_difference(bcast, e.sum_in[e.root], esize));
  const Bytes my_block(e.scattered.begin() + r * n * esize,
                       e.scattered.begin() + (r + 1) * n * esize);
  failures.set(r, test::first_difference(scatter_out, my_block, esize));
  failures.set(r, test::first_difference(gather_out, e.gathered, 1));
  (void)p;
}

using Case = std::tuple<std::string, std::uint32_t>;
class NonblockingCollectives : public ::testing::TestWithParam<Case> {};

TEST_P(NonblockingCollectives, AllSixStartedTogetherAreExactInAnyCompletionOrder) {
  const auto& [algorithm, ranks] = GetParam();
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, ranks, 3));
  ASSERT_TRUE(world);
  const Expected e(ranks);
  EXPECT_EQ(test::run_ranks(*world,
                            [&](Communicator& comm, Failures& failures) {
                              run_all_six(comm, e, algorithm, failures);
                            }),
            "");
}

INSTANTIATE_TEST_SUITE_P(Algorithms, NonblockingCollectives,
                         ::testing::Combine(::testing::Values("innet", "auto"),
                                            ::testing::Values(1u, 2u, 3u, 5u, 8u, 64u)),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_r" +
                                  std::to_string(std::get<1>(info.param));
                         });

// The host algorithms: "ring" for all-reduce; each other collective's own.
TEST(NonblockingHostCollectives, AllSixStartedTogetherAreExact) {
  for (std::uint32_t ranks : {3u, 8u}) {
    auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, ranks, 3));
    ASSERT_TRUE(world);
    const Expected e(ranks);
    const std::string failed = test::run_ranks(*world, [&](Communicator& comm, Failures& failures) {
      const int r = comm.rank();
      const std::size_t n = Expected::kCount;
      Bytes out(e.sum.size()), bcast = e.sum_in[r], gather_out(e.gathered.size());
      auto a = comm.iallreduce(e.sum_in[r].data(), out.data(), n, Dtype::i32, ReduceOp::sum,
                               {.algorithm = "ring"});
      auto b = comm.ibroadcast(bcast.data(), n, Dtype::i32, e.root, {.algorithm = "binomial"});
      auto c = comm.iallgather(e.gather_in[r].data(), gather_out.data(), n, Dtype::u8,
                               {.algorithm = "ring"});
      auto d = comm.ibarrier({.algorithm = "dissemination"});
      for (auto* req : {&d, &c, &b, &a}) {
        if (!req->ok()) {
          failures.check(r, req->status(), "start");
          continue;
        }
        failures.check(r, comm.wait(**req), "wait");
      }
      failures.set(r, test::first_difference(out, e.sum, 4));
      failures.set(r, test::first_difference(bcast, e.sum_in[e.root], 4));
      failures.set(r, test::first_difference(gather_out, e.gathered, 1));
    });
    EXPECT_EQ(failed, "") << ranks << " ranks";
  }
}

// Threads instead of fibers under the ranks: the same, on the live fabric.
TEST(NonblockingCollectivesLive, AllSixStartedTogetherAreExact) {
  FabricOptions o = test::small_fabric(TopologyKind::leaf_spine, 5, 3);
  o.fabric = FabricKind::live;
  auto world = test::make_world(o);
  ASSERT_TRUE(world);
  const Expected e(5);
  EXPECT_EQ(
      test::run_ranks(*world, [&](Communicator& comm,
                                  Failures& failures) { run_all_six(comm, e, "auto", failures); }),
      "");
}

// On a threaded fabric, polling test() alone takes packets in and completes
// the collective (the simulator needs progress_for: its time stands still
// while a rank runs).
TEST(NonblockingCollectivesLive, PollingTestAloneCompletesTheCollective) {
  FabricOptions o = test::small_fabric(TopologyKind::star, 4);
  o.fabric = FabricKind::live;
  auto world = test::make_world(o);
  ASSERT_TRUE(world);
  const std::string failed = test::run_ranks(*world, [&](Communicator& comm, Failures& failures) {
    const int r = comm.rank();
    std::vector<std::int32_t> x(5000, r + 1), y(5000);
    auto req = comm.iallreduce(x.data(), y.data(), x.size(), Dtype::i32, ReduceOp::sum,
                               {.algorithm = "ring"});
    if (!req.ok()) return failures.check(r, req.status(), "iallreduce");
    // A bound on polls, not on time: a test() that never takes packets in
    // would spin here forever.
    long polls = 0;
    while (!comm.test(*req) && ++polls < 20'000'000) {
    }
    if (polls >= 20'000'000) failures.set(r, "test() never completed the all-reduce");
    failures.check(r, comm.wait(*req), "wait");
    if (y != std::vector<std::int32_t>(5000, 10)) failures.set(r, "wrong sum");
  });
  EXPECT_EQ(failed, "");
}

// A collective progresses while the rank computes: starting it, computing
// for as long as it takes, then waiting costs far less than both in turn.
// Virtual time in the simulator: exact, not a wall-clock measurement.
TEST(NonblockingOverlap, CollectiveProgressesWhileTheRankComputes) {
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, 8, 4));
  ASSERT_TRUE(world);
  const std::size_t count = 256 * 1024;
  for (const char* algorithm : {"innet", "ring"}) {
    std::vector<Time> blocking(8), overlapped(8);
    const std::string failed = test::run_ranks(*world, [&](Communicator& comm, Failures& failures) {
      const int r = comm.rank();
      std::vector<float> in(count, 1.0f), out(count);
      const AllreduceOptions opt{.algorithm = algorithm};
      failures.check(r, comm.barrier(), "barrier");
      Time t0 = comm.now();
      failures.check(r,
                     comm.allreduce(in.data(), out.data(), count, Dtype::f32, ReduceOp::sum, opt),
                     "allreduce");
      blocking[r] = comm.now() - t0;
      failures.check(r, comm.barrier(), "barrier");
      t0 = comm.now();
      auto req = comm.iallreduce(in.data(), out.data(), count, Dtype::f32, ReduceOp::sum, opt);
      if (!req.ok()) return failures.check(r, req.status(), "iallreduce");
      comm.progress_for(blocking[r]);  // the rank's own work, as long as the collective
      failures.check(r, comm.wait(*req), "wait");
      overlapped[r] = comm.now() - t0;
      if (out != std::vector<float>(count, 8.0f)) failures.set(r, "wrong sum");
    });
    ASSERT_EQ(failed, "") << algorithm;
    for (int r = 0; r < 8; ++r)
      EXPECT_LT(overlapped[r], blocking[r] * 3 / 2)
          << algorithm << " rank " << r << ": computing as long as the collective took "
          << to_micros(overlapped[r]) << " us against " << to_micros(blocking[r]) << " us alone";
  }
}

// A short collective started after a long one completes first; test() says
// so without blocking, and the long one completes later.
TEST(NonblockingOverlap, LaterShortCollectiveCompletesBeforeEarlierLongOne) {
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, 4, 2));
  ASSERT_TRUE(world);
  const std::string failed = test::run_ranks(*world, [&](Communicator& comm, Failures& failures) {
    const int r = comm.rank();
    std::vector<float> big(1 << 20, 1.0f);
    std::vector<std::int32_t> small{r}, small_out(1);
    auto long_one = comm.iallreduce(big.data(), big.data(), big.size(), Dtype::f32, ReduceOp::sum,
                                    {.algorithm = "ring"});
    auto short_one = comm.iallreduce(small.data(), small_out.data(), 1, Dtype::i32, ReduceOp::sum,
                                     {.algorithm = "recursive_doubling"});
    if (!long_one.ok() || !short_one.ok()) return failures.set(r, "start failed");
    if (comm.test(*long_one)) failures.set(r, "1 MiB all-reduce complete at once");
    failures.check(r, comm.wait(*short_one), "short");
    if (comm.last_algorithm() != "recursive_doubling")
      failures.set(r, "last_algorithm after wait: " + comm.last_algorithm());
    if (small_out[0] != 0 + 1 + 2 + 3) failures.set(r, "short sum wrong");
    if (comm.test(*long_one)) failures.set(r, "the long one completed before the short one");
    while (!comm.test(*long_one)) comm.progress_for(10 * kPicosPerMicro);
    failures.check(r, comm.wait(*long_one), "long");
    if (big != std::vector<float>(big.size(), 4.0f)) failures.set(r, "long sum wrong");
  });
  EXPECT_EQ(failed, "");
}

// In-network collectives take the tree one at a time, in start order, also
// with a blocking one between them; all are exact.
TEST(NonblockingTree, InnetCollectivesShareTheTreeInStartOrder) {
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, 6, 3));
  ASSERT_TRUE(world);
  const std::string failed = test::run_ranks(*world, [&](Communicator& comm, Failures& failures) {
    const int r = comm.rank();
    constexpr std::size_t n = 10000;
    std::array<std::vector<std::int64_t>, 4> in, out;
    for (int k = 0; k < 4; ++k) {
      in[k].assign(n, (r + 1) * (k + 1));
      out[k].assign(n, -1);
    }
    std::vector<Request> requests;
    const AllreduceOptions innet{.algorithm = "innet"};
    for (int k : {0, 1}) {
      auto req = comm.iallreduce(in[k].data(), out[k].data(), n, Dtype::i64, ReduceOp::sum, innet);
      if (!req.ok()) return failures.check(r, req.status(), "iallreduce");
      requests.push_back(*req);
    }
    failures.check(r,
                   comm.allreduce(in[2].data(), out[2].data(), n, Dtype::i64, ReduceOp::sum, innet),
                   "blocking allreduce");
    auto last = comm.iallreduce(in[3].data(), out[3].data(), n, Dtype::i64, ReduceOp::sum, innet);
    if (!last.ok()) return failures.check(r, last.status(), "iallreduce");
    requests.push_back(*last);
    std::reverse(requests.begin(), requests.end());
    failures.check(r, comm.wait_all(requests), "wait_all");
    for (int k = 0; k < 4; ++k)
      if (out[k] != std::vector<std::int64_t>(n, 21 * (k + 1)))
        failures.set(r, "all-reduce " + std::to_string(k) + " wrong");
  });
  EXPECT_EQ(failed, "");
}

// Bad arguments fail at the start call, on every rank, and send nothing;
// unknown and already-completed requests are refused by wait().
TEST(NonblockingErrors, BadArgumentsFailAtOnceAndBadRequestsAreRefused) {
  auto world = test::make_world(test::small_fabric(TopologyKind::star, 4));
  ASSERT_TRUE(world);
  const std::string failed = test::run_ranks(*world, [&](Communicator& comm, Failures& failures) {
    const int r = comm.rank();
    std::vector<std::int32_t> x(8, r), y(32);
    float f[8] = {};
    const std::uint64_t sent = comm.driver().endpoint().counters().packets_sent;
    auto expect = [&](const Result<Request>& got, StatusCode code, const std::string& words) {
      if (got.ok())
        failures.set(r, "started, want " + std::string(to_string(code)));
      else if (got.status().code() != code ||
               got.status().message().find(words) == std::string::npos)
        failures.set(r, "got '" + got.status().to_string() + "', want '" + words + "'");
    };
    expect(comm.iallreduce(nullptr, y.data(), 8, Dtype::i32, ReduceOp::sum),
           StatusCode::invalid_argument, "null buffer");
    expect(comm.ireduce(x.data(), y.data(), 8, Dtype::i32, ReduceOp::sum, 9),
           StatusCode::invalid_argument, "root 9 outside 0..3");
    expect(comm.ibroadcast(x.data(), 8, static_cast<Dtype>(77), 0), StatusCode::invalid_argument,
           "unknown dtype code 77");
    expect(comm.ibarrier({.algorithm = "ring"}), StatusCode::invalid_argument,
           "unknown barrier algorithm");
    expect(comm.ireduce_scatter(f, f, 2, Dtype::f32, ReduceOp::bxor), StatusCode::not_supported,
           "bxor");
    expect(comm.iallreduce(x.data(), y.data(), 8, Dtype::i32, ReduceOp::sum,
                           {.algorithm = "no_such_algorithm"}),
           StatusCode::invalid_argument, "unknown all-reduce algorithm 'no_such_algorithm'");
    if (comm.driver().endpoint().counters().packets_sent != sent)
      failures.set(r, "packets were sent by calls that failed their checks");
    auto ok = comm.iallgather(x.data(), y.data(), 8, Dtype::i32);
    if (!ok.ok()) return failures.check(r, ok.status(), "iallgather");
    failures.check(r, comm.wait(*ok), "wait");
    for (int i = 0; i < 32; ++i)
      if (y[i] != i / 8) failures.set(r, "all-gather after the errors is wrong");
    const Status again = comm.wait(*ok);
    if (again.code() != StatusCode::invalid_argument ||
        again.message().find("not pending") == std::string::npos)
      failures.set(r, "second wait: " + again.to_string());
    if (!comm.test(*ok)) failures.set(r, "test() of a completed request is false");
  });
  EXPECT_EQ(failed, "");
}

// The tree's root dies under a non-blocking in-network all-reduce while a
// host one runs beside it: the in-network one fails with `timeout` at its
// wait, on every rank, and is not re-run (a re-run would take an attempt
// number out of start order); the host one is exact; the next in-network
// collective runs on the re-formed tree.
TEST(NonblockingFailure, ATimedOutNonblockingCollectiveFailsAtItsWaitAndIsNotReRun) {
  FabricOptions o = test::small_fabric(TopologyKind::leaf_spine, 8, 4);
  o.window = 16;
  o.faults.switch_outages.push_back({"spine1", 20 * kPicosPerMicro, kNever});
  auto world = test::make_world(o);
  ASSERT_TRUE(world);
  ASSERT_NE(world->describe().find("root spine1"), std::string::npos) << world->describe();
  constexpr std::size_t n = 200000;  // about 70 us in-network
  const std::string failed = test::run_ranks(*world, [&](Communicator& comm, Failures& failures) {
    const int r = comm.rank();
    std::vector<float> x(n, 1.0f), y(n), h(4096, 2.0f), hy(4096);
    auto innet =
        comm.iallreduce(x.data(), y.data(), n, Dtype::f32, ReduceOp::sum, {.algorithm = "innet"});
    auto host = comm.iallreduce(h.data(), hy.data(), h.size(), Dtype::f32, ReduceOp::sum,
                                {.algorithm = "ring"});
    if (!innet.ok() || !host.ok()) return failures.set(r, "start failed");
    const Status failed = comm.wait(*innet);
    if (failed.code() != StatusCode::timeout)
      failures.set(r, "in-network wait: " + failed.to_string());
    if (comm.last_note().find("not re-run: a non-blocking collective") == std::string::npos)
      failures.set(r, "note: " + comm.last_note());
    failures.check(r, comm.wait(*host), "host");
    if (hy != std::vector<float>(h.size(), 16.0f)) failures.set(r, "host sum wrong");
    failures.check(
        r, comm.allreduce(x.data(), y.data(), n, Dtype::f32, ReduceOp::sum, {.algorithm = "innet"}),
        "next in-network");
    if (y != std::vector<float>(n, 8.0f)) failures.set(r, "next in-network sum wrong");
  });
  EXPECT_EQ(failed, "");
  EXPECT_EQ(world->stats().reruns, 0u);
  EXPECT_EQ(world->stats().trees_reformed, 1u);
  EXPECT_NE(world->describe().find("root spine0"), std::string::npos) << world->describe();
}

// Non-blocking collectives on a communicator and on its sub-communicator at
// once: each keeps its own attempt numbers and tags, and both are exact.
TEST(NonblockingSplit, WorldAndSubCommunicatorCollectivesOverlap) {
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, 6, 3));
  ASSERT_TRUE(world);
  const std::string failed = test::run_ranks(*world, [&](Communicator& comm, Failures& failures) {
    const int r = comm.rank();
    auto sub = comm.split(r % 2, r);
    if (!sub.ok() || !*sub) return failures.set(r, "split: " + sub.status().to_string());
    Communicator& half = **sub;
    std::vector<std::int32_t> x(3000, r + 1), all(3000), mine(3000), gathered(3 * 5);
    std::vector<std::int32_t> five(5, r);
    auto w = comm.iallreduce(x.data(), all.data(), x.size(), Dtype::i32, ReduceOp::sum);
    auto h = half.iallreduce(x.data(), mine.data(), x.size(), Dtype::i32, ReduceOp::sum,
                             {.algorithm = "ring"});
    auto g = half.iallgather(five.data(), gathered.data(), 5, Dtype::i32);
    if (!w.ok() || !h.ok() || !g.ok()) return failures.set(r, "start failed");
    failures.check(r, half.wait(*g), "sub all-gather");
    failures.check(r, half.wait(*h), "sub all-reduce");
    failures.check(r, comm.wait(*w), "world all-reduce");
    if (all != std::vector<std::int32_t>(3000, 21)) failures.set(r, "world sum wrong");
    const int group_sum = r % 2 ? 2 + 4 + 6 : 1 + 3 + 5;
    if (mine != std::vector<std::int32_t>(3000, group_sum)) failures.set(r, "sub sum wrong");
    for (int i = 0; i < 15; ++i)
      if (gathered[i] != r % 2 + 2 * (i / 5)) failures.set(r, "sub all-gather wrong");
    // A request belongs to the communicator that started it.
    auto late = half.ibarrier();
    if (!late.ok()) return failures.set(r, "ibarrier");
    const Status foreign = comm.wait(*late);
    if (foreign.code() != StatusCode::invalid_argument)
      failures.set(r, "waited on another communicator: " + foreign.to_string());
    failures.check(r, half.wait(*late), "sub barrier");
  });
  EXPECT_EQ(failed, "");
}

// A rank program that returns with collectives outstanding does not leave
// them half done: the communicator completes them as it goes.
TEST(NonblockingErrors, OutstandingCollectivesCompleteWhenTheRankReturns) {
  auto world = test::make_world(test::small_fabric(TopologyKind::star, 3));
  ASSERT_TRUE(world);
  std::vector<std::vector<std::int32_t>> out(3, std::vector<std::int32_t>(100, -1));
  std::vector<std::vector<std::int32_t>> in(3);
  Status run = world->run([&](Communicator& comm) {
    const int r = comm.rank();
    in[r].assign(100, r + 1);
    (void)comm.iallreduce(in[r].data(), out[r].data(), 100, Dtype::i32, ReduceOp::sum);
  });
  ASSERT_TRUE(run.ok()) << run.to_string();
  for (int r = 0; r < 3; ++r) EXPECT_EQ(out[r], std::vector<std::int32_t>(100, 6)) << r;
}

}  // namespace
}  // namespace inca
