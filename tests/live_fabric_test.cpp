// The live fabric (threads, lock-free rings, wall-clock time) runs the same
// protocol as the simulator, so it must give the same exact results: every
// all-reduce bit-identical to the reference, point-to-point messages intact,
// and counters that add up (each switch aggregates each child's chunk exactly
// once, each host link carried exactly what its endpoint sent). Also: a
// program that can never finish fails instead of hanging, control-plane calls
// during a run reach the switch thread, and tiny rings (sender backlogs) lose
// nothing. No assertion depends on how fast the machine is.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "inca/communicator.hpp"
#include "inca/world.hpp"
#include "live/live_fabric.hpp"
#include "manager/aggregation_manager.hpp"
#include "protocol/host_driver.hpp"
#include "test_support.hpp"
#include "topology/topology.hpp"

namespace inca {
namespace {

constexpr std::uint32_t kRanks = 8;

FabricOptions live_options(TopologyKind kind) {
  FabricOptions o = test::small_fabric(kind, kRanks);  // leaf-spine: leaves of 3, 3, 2
  o.fabric = FabricKind::live;
  // A generous fixed timeout keeps slow (sanitised, oversubscribed) runs free
  // of spurious retransmissions: these tests are about the fabric, not the
  // timeout estimator (an adaptive timeout shrinks to a few round trips, and
  // a thread the OS deschedules for longer looks like a lost packet).
  o.retransmit_timeout = 2 * kPicosPerSecond;
  o.recovery.adaptive_timeout = false;
  return o;
}

struct Case {
  Dtype dtype;
  ReduceOp op;
};

// Chunks an all-reduce of `count` elements takes with `slot_bytes` per slot.
std::uint64_t chunks_of(std::size_t count, Dtype dtype, std::uint32_t slot_bytes) {
  const std::size_t per_chunk = slot_bytes / dtype_size(dtype);
  return (count + per_chunk - 1) / per_chunk;
}

// Runs one all-reduce of `count` elements with `algorithm` on every rank and
// checks each rank's result against the reference, bit for bit.
void expect_exact_allreduce(World& world, const std::string& algorithm, std::size_t count, Case c) {
  std::vector<test::Bytes> inputs;
  for (std::uint32_t r = 0; r < world.size(); ++r)
    inputs.push_back(test::exact_input(count, c.dtype, c.op, r));
  const test::Bytes want = test::fold_in_rank_order(inputs, count, c.dtype, c.op);
  std::vector<test::Bytes> got(world.size());
  std::vector<std::string> status(world.size());
  std::vector<std::string> ran(world.size());
  Status run = world.run([&](Communicator& comm) {
    const auto r = static_cast<std::size_t>(comm.rank());
    got[r].resize(want.size());
    Status s = comm.allreduce(inputs[r].data(), got[r].data(), count, c.dtype, c.op,
                              {.algorithm = algorithm});
    status[r] = s.to_string();
    ran[r] = comm.last_algorithm();
  });
  ASSERT_TRUE(run.ok()) << run.to_string();
  for (std::uint32_t r = 0; r < world.size(); ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    EXPECT_EQ(status[r], Status().to_string());
    EXPECT_EQ(ran[r], algorithm);
    EXPECT_EQ(test::first_difference(got[r], want, dtype_size(c.dtype)), "");
  }
}

class LiveAllreduce : public ::testing::TestWithParam<TopologyKind> {};

TEST_P(LiveAllreduce, ExactForDtypesOpsAndSizes) {
  auto world = test::make_world(live_options(GetParam()));
  ASSERT_TRUE(world);
  ASSERT_TRUE(world->innet_status().ok()) << world->innet_status().to_string();
  const Case cases[] = {{Dtype::f32, ReduceOp::sum},
                        {Dtype::bf16, ReduceOp::sum},
                        {Dtype::f64, ReduceOp::prod},
                        {Dtype::i32, ReduceOp::max},
                        {Dtype::u8, ReduceOp::bxor}};
  for (const Case& c : cases) {
    // One element, a count that leaves a partial last chunk, and enough
    // chunks to wrap the 64-slot window several times.
    for (std::size_t count : {std::size_t{1}, std::size_t{1001}, std::size_t{70000}}) {
      for (const char* algorithm : {"innet", "ring"}) {
        SCOPED_TRACE(std::string(to_string(c.dtype)) + " " + std::string(to_string(c.op)) + " " +
                     std::to_string(count) + " " + algorithm);
        expect_exact_allreduce(*world, algorithm, count, c);
      }
    }
  }
}

TEST_P(LiveAllreduce, SwitchesAggregateEachChunkOnce) {
  const FabricOptions o = live_options(GetParam());
  auto world = test::make_world(o);
  ASSERT_TRUE(world);
  const std::size_t count = 300000;  // f32: 586 chunks per host
  const std::uint64_t chunks = chunks_of(count, Dtype::f32, o.slot_bytes);
  const WorldStats before = world->stats();
  expect_exact_allreduce(*world, "innet", count, {Dtype::f32, ReduceOp::sum});
  const WorldStats after = world->stats();
  // Star: the switch has 8 children. Leaf-spine (leaves of 3, 3, 2): the
  // leaves have 8 children in all and the root spine has 3 leaves.
  const std::uint64_t children = GetParam() == TopologyKind::star ? kRanks : kRanks + 3;
  EXPECT_EQ(after.switch_contributions - before.switch_contributions, children * chunks);
  EXPECT_EQ(after.events, 0u);  // the live fabric has no discrete events
}

INSTANTIATE_TEST_SUITE_P(Live, LiveAllreduce,
                         ::testing::Values(TopologyKind::star, TopologyKind::leaf_spine),
                         [](const auto& info) {
                           return info.param == TopologyKind::star ? "Star" : "LeafSpine";
                         });

TEST(LiveWorld, SendRecvAroundARing) {
  auto world = test::make_world(live_options(TopologyKind::leaf_spine));
  ASSERT_TRUE(world);
  const std::size_t bytes = 100000;  // 25 fragments
  std::vector<std::string> errors(kRanks);
  Status run = world->run([&](Communicator& comm) {
    const int n = comm.size();
    const int r = comm.rank();
    std::vector<std::byte> out(bytes), in(bytes);
    for (std::size_t i = 0; i < bytes; ++i) out[i] = static_cast<std::byte>(i * 7 + r);
    auto sent = comm.isend(out.data(), bytes, (r + 1) % n, 5);
    Status s = comm.recv(in.data(), bytes, (r + n - 1) % n, 5);
    if (s.ok() && sent.ok()) s = comm.wait(*sent);
    if (!s.ok()) {
      errors[r] = s.to_string();
      return;
    }
    const int from = (r + n - 1) % n;
    for (std::size_t i = 0; i < bytes; ++i)
      if (in[i] != static_cast<std::byte>(i * 7 + from)) {
        errors[r] = "byte " + std::to_string(i) + " differs";
        return;
      }
  });
  ASSERT_TRUE(run.ok()) << run.to_string();
  for (std::uint32_t r = 0; r < kRanks; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

TEST(LiveWorld, ARunThatCannotFinishFailsInsteadOfHanging) {
  auto world = test::make_world(live_options(TopologyKind::star));
  ASSERT_TRUE(world);
  std::vector<StatusCode> codes(kRanks, StatusCode::ok);
  Status run = world->run([&](Communicator& comm) {
    std::byte b{};
    // Everyone waits for a message nobody sends.
    codes[comm.rank()] = comm.recv(&b, 1, (comm.rank() + 1) % comm.size(), 9).code();
  });
  ASSERT_TRUE(run.ok()) << run.to_string();
  for (std::uint32_t r = 0; r < kRanks; ++r) EXPECT_EQ(codes[r], StatusCode::timeout) << r;
  // The world still works afterwards.
  expect_exact_allreduce(*world, "innet", 4096, {Dtype::i32, ReduceOp::sum});
}

// A fabric built by hand, to reach what World does not expose: ring size,
// link counters, control calls during a run.
struct HandBuilt {
  topology::Topology topology;
  std::unique_ptr<manager::AggregationManager> manager;
  std::unique_ptr<live::LiveFabric> fabric;
  manager::TreePlan tree;

  explicit HandBuilt(std::size_t ring_capacity) {
    auto t = topology::Topology::star(kRanks, topology::LinkSpec{}, topology::SwitchSpec{});
    EXPECT_TRUE(t.ok());
    topology = std::move(*t);
    manager = std::make_unique<manager::AggregationManager>(topology);
    live::LiveConfig config;
    config.ring_capacity = ring_capacity;
    config.endpoint.job = 1;
    config.endpoint.key_tag = 7;
    config.endpoint.retransmit_timeout = 2 * kPicosPerSecond;
    fabric = std::make_unique<live::LiveFabric>(topology, config);
    auto plan = manager->allocate(request(1, 16));
    EXPECT_TRUE(plan.ok());
    tree = std::move(*plan);
    for (const auto& [node, install] : tree.installs)
      EXPECT_TRUE(fabric->install(node, install).ok());
  }

  manager::TreeRequest request(std::uint32_t job, std::uint32_t slots) const {
    manager::TreeRequest req;
    req.job = job;
    req.key_tag = 7;
    for (std::uint32_t r = 0; r < kRanks; ++r) req.hosts.push_back(r);
    req.slots = slots;
    req.max_payload_bytes = 1024;
    return req;
  }
};

TEST(LiveFabric, TinyRingsBacklogWithoutLoss) {
  HandBuilt w(/*ring_capacity=*/4);
  const std::size_t count = 50000;  // i32: 196 chunks per host through 4-packet rings
  std::vector<test::Bytes> inputs;
  for (std::uint32_t r = 0; r < kRanks; ++r)
    inputs.push_back(test::exact_input(count, Dtype::i32, ReduceOp::sum, r));
  const test::Bytes want = test::fold_in_rank_order(inputs, count, Dtype::i32, ReduceOp::sum);
  std::vector<test::Bytes> reduced(kRanks), echoed(kRanks);
  std::vector<std::string> errors(kRanks);
  Status run = w.fabric->run([&](std::uint32_t rank, protocol::HostDriver& driver) {
    Communicator comm(rank, kRanks, driver, &w.tree, Status(), false);
    reduced[rank].resize(want.size());
    Status s = comm.innet_allreduce(inputs[rank].data(), reduced[rank].data(), count, Dtype::i32,
                                    ReduceOp::sum);
    // A large message to the neighbour: hundreds of fragments into 4 slots.
    echoed[rank].resize(want.size());
    const int right = static_cast<int>((rank + 1) % kRanks);
    const int left = static_cast<int>((rank + kRanks - 1) % kRanks);
    auto sent = comm.isend(reduced[rank].data(), want.size(), right, 1);
    if (s.ok()) s = comm.recv(echoed[rank].data(), want.size(), left, 1);
    if (s.ok() && sent.ok()) s = comm.wait(*sent);
    errors[rank] = s.to_string();
  });
  ASSERT_TRUE(run.ok()) << run.to_string();
  for (std::uint32_t r = 0; r < kRanks; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    EXPECT_EQ(errors[r], Status().to_string());
    EXPECT_EQ(test::first_difference(reduced[r], want, 4), "");
    EXPECT_EQ(test::first_difference(echoed[r], want, 4), "");
  }
  // Every host link carried exactly what its endpoint sent, and nothing is
  // left in flight.
  for (std::uint32_t r = 0; r < kRanks; ++r) {
    const auto& link = w.fabric->link_counters(w.topology.host_node(r), 0);
    const auto& ep = w.fabric->endpoint(r).counters();
    EXPECT_EQ(link.packets, ep.packets_sent) << r;
    EXPECT_EQ(link.bytes, ep.bytes_sent) << r;
  }
  EXPECT_EQ(w.fabric->packets_in_flight(), 0);
  const engine::EngineCounters* sw = w.fabric->switch_counters(w.tree.root);
  ASSERT_NE(sw, nullptr);
  EXPECT_EQ(sw->contributions, kRanks * chunks_of(count, Dtype::i32, 1024));
}

TEST(LiveFabric, ControlCallsDuringARunReachTheSwitchThread) {
  HandBuilt w(/*ring_capacity=*/256);
  auto second = w.manager->allocate(w.request(2, 8));
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  const auto& [node, install] = second->installs.front();
  std::atomic<int> installed{-1}, removed{-1}, bad_node{-1};
  Status run = w.fabric->run([&](std::uint32_t rank, protocol::HostDriver&) {
    if (rank != 0) return;
    installed = static_cast<int>(w.fabric->install(node, install).code());
    removed = static_cast<int>(
        w.fabric->remove(node, wire::TreeRemove{install.job, install.tree}).code());
    bad_node = static_cast<int>(w.fabric->install(w.topology.host_node(0), install).code());
  });
  ASSERT_TRUE(run.ok()) << run.to_string();
  EXPECT_EQ(installed, static_cast<int>(StatusCode::ok));
  EXPECT_EQ(removed, static_cast<int>(StatusCode::ok));
  EXPECT_EQ(bad_node, static_cast<int>(StatusCode::invalid_argument));
  // Removing again, between runs, reports the tree as unknown.
  EXPECT_EQ(w.fabric->remove(node, wire::TreeRemove{install.job, install.tree}).code(),
            StatusCode::not_supported);
}

TEST(LiveFabric, ARankThatThrowsIsReported) {
  HandBuilt w(/*ring_capacity=*/64);
  Status run = w.fabric->run([&](std::uint32_t rank, protocol::HostDriver&) {
    if (rank == 3) throw std::runtime_error("boom");
  });
  EXPECT_EQ(run.code(), StatusCode::internal);
  EXPECT_NE(run.to_string().find("rank 3: boom"), std::string::npos) << run.to_string();
}

}  // namespace
}  // namespace inca
