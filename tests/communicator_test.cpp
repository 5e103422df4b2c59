// The Communicator's contract beyond the arithmetic: point-to-point messages
// (tags, sizes, errors, stalls), argument checks that fail before anything is
// sent, algorithm selection and its fallback note, mismatched collectives that
// end in an error rather than a hang, and World construction.
#include "inca/communicator.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "inca/algorithm.hpp"
#include "inca/world.hpp"
#include "manager/aggregation_manager.hpp"
#include "protocol/host_driver.hpp"
#include "sim/sim_fabric.hpp"
#include "test_support.hpp"

namespace inca {
namespace {

using test::Bytes;

Bytes pattern(std::size_t n, int seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>((i * 13 + seed) & 0xff);
  return b;
}

std::unique_ptr<World> star_world(std::uint32_t ranks) {
  return test::make_world(test::small_fabric(TopologyKind::star, ranks));
}

std::uint64_t packets_sent(Communicator& comm) {
  return comm.driver().endpoint().counters().packets_sent;
}

TEST(Communicator, SendAndReceiveMatchByTagAtEverySize) {
  auto world = star_world(2);
  ASSERT_TRUE(world);
  const std::vector<std::size_t> sizes{0, 1, 4064, 4065, 10000};  // mtu 4096 - 32 B header
  ASSERT_TRUE(world
                  ->run([&](Communicator& comm) {
                    if (comm.rank() == 0) {
                      for (std::size_t i = 0; i < sizes.size(); ++i) {
                        const Bytes data = pattern(sizes[i], static_cast<int>(i));
                        EXPECT_TRUE(
                            comm.send(data.data(), data.size(), 1, static_cast<int>(i + 1)).ok());
                      }
                      return;
                    }
                    // Receive in the reverse of the send order: tags pick the message.
                    for (std::size_t i = sizes.size(); i-- > 0;) {
                      Bytes got(sizes[i]);
                      Status s = comm.recv(got.data(), got.size(), 0, static_cast<int>(i + 1));
                      EXPECT_TRUE(s.ok()) << s.to_string();
                      EXPECT_EQ(got, pattern(sizes[i], static_cast<int>(i))) << sizes[i] << " B";
                    }
                  })
                  .ok());
}

TEST(Communicator, NonBlockingExchangeAroundARing) {
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, 5, 2));
  ASSERT_TRUE(world);
  ASSERT_TRUE(world
                  ->run([&](Communicator& comm) {
                    const int n = comm.size(), r = comm.rank();
                    const Bytes mine = pattern(9000, r);
                    Bytes from_left(9000);
                    std::vector<Request> reqs;
                    auto recv = comm.irecv(from_left.data(), 9000, (r + n - 1) % n, 7);
                    auto send = comm.isend(mine.data(), 9000, (r + 1) % n, 7);
                    ASSERT_TRUE(recv.ok() && send.ok());
                    reqs = {*recv, *send};
                    EXPECT_TRUE(comm.wait_all(reqs).ok());
                    EXPECT_EQ(from_left, pattern(9000, (r + n - 1) % n));
                  })
                  .ok());
}

TEST(Communicator, ReceiveOfTheWrongSizeIsAMismatch) {
  auto world = star_world(2);
  ASSERT_TRUE(world);
  std::vector<Status> got(2);
  ASSERT_TRUE(world
                  ->run([&](Communicator& comm) {
                    const Bytes data = pattern(100, 1);
                    if (comm.rank() == 1) {
                      EXPECT_TRUE(comm.send(data.data(), 100, 0, 5).ok());
                      EXPECT_TRUE(comm.send(data.data(), 100, 0, 6).ok());
                      return;
                    }
                    Bytes small(50), large(200);
                    got[0] = comm.recv(small.data(), small.size(), 1, 5);
                    got[1] = comm.recv(large.data(), large.size(), 1, 6);
                  })
                  .ok());
  EXPECT_EQ(got[0].code(), StatusCode::mismatch) << got[0].to_string();
  EXPECT_EQ(got[1].code(), StatusCode::mismatch) << got[1].to_string();
}

TEST(Communicator, ReceiveWithoutASenderTimesOutInsteadOfHanging) {
  auto world = star_world(2);
  ASSERT_TRUE(world);
  Status got;
  ASSERT_TRUE(world
                  ->run([&](Communicator& comm) {
                    if (comm.rank() != 0) return;
                    Bytes buf(8);
                    got = comm.recv(buf.data(), buf.size(), 1, 0);
                  })
                  .ok());
  EXPECT_EQ(got.code(), StatusCode::timeout);
  EXPECT_NE(got.message().find("blocked"), std::string::npos) << got.message();
}

TEST(Communicator, PointToPointRejectsBadPeersTagsAndBuffers) {
  auto world = star_world(2);
  ASSERT_TRUE(world);
  ASSERT_TRUE(
      world
          ->run([&](Communicator& comm) {
            Bytes buf(8);
            for (int peer : {-1, 2})
              EXPECT_EQ(comm.send(buf.data(), 8, peer).code(), StatusCode::invalid_argument)
                  << peer;
            for (int tag : {-1, kMaxUserTag + 1})
              EXPECT_EQ(comm.send(buf.data(), 8, 1 - comm.rank(), tag).code(),
                        StatusCode::invalid_argument)
                  << tag;
            EXPECT_EQ(comm.recv(buf.data(), 8, 5).code(), StatusCode::invalid_argument);
            EXPECT_EQ(comm.recv(buf.data(), 8, 0, -3).code(), StatusCode::invalid_argument);
            EXPECT_EQ(comm.send(nullptr, 8, 1 - comm.rank()).code(), StatusCode::invalid_argument);
            EXPECT_EQ(comm.recv(nullptr, 8, 1 - comm.rank()).code(), StatusCode::invalid_argument);
            EXPECT_EQ(packets_sent(comm), 0u);
          })
          .ok());
}

TEST(Communicator, InvalidAllreduceArgumentsFailBeforeAnythingIsSent) {
  auto world = star_world(3);
  ASSERT_TRUE(world);
  ASSERT_TRUE(
      world
          ->run([&](Communicator& comm) {
            std::vector<float> a(64, 1.0f), b(64);
            auto code = [&](const void* s, void* r, std::size_t n, Dtype d, ReduceOp op,
                            const char* algorithm = "auto") {
              return comm.allreduce(s, r, n, d, op, {.algorithm = algorithm}).code();
            };
            const auto f32 = Dtype::f32;
            const auto sum = ReduceOp::sum;
            EXPECT_EQ(code(nullptr, b.data(), 64, f32, sum), StatusCode::invalid_argument);
            EXPECT_EQ(code(a.data(), nullptr, 64, f32, sum), StatusCode::invalid_argument);
            EXPECT_EQ(code(a.data(), a.data() + 1, 32, f32, sum), StatusCode::invalid_argument);
            EXPECT_EQ(code(a.data() + 1, a.data(), 32, f32, sum), StatusCode::invalid_argument);
            EXPECT_EQ(code(a.data(), b.data(), 64, f32, sum, "no-such-algorithm"),
                      StatusCode::invalid_argument);
            EXPECT_EQ(code(a.data(), b.data(), 64, static_cast<Dtype>(99), sum),
                      StatusCode::invalid_argument);
            for (const char* algorithm : {"auto", "innet", "ring"})
              EXPECT_EQ(code(a.data(), b.data(), 64, f32, ReduceOp::band, algorithm),
                        StatusCode::not_supported)
                  << algorithm;
            EXPECT_EQ(comm.innet_allreduce(a.data(), b.data(), 64, f32, ReduceOp::bxor).code(),
                      StatusCode::not_supported);
            EXPECT_EQ(packets_sent(comm), 0u);
            // Null buffers are fine with nothing to reduce, and so is
            // the adjacent (non-overlapping) half of one buffer.
            EXPECT_TRUE(comm.allreduce(nullptr, nullptr, 0, f32, sum).ok());
            EXPECT_TRUE(comm.allreduce(a.data(), a.data() + 32, 32, f32, sum).ok());
          })
          .ok());
}

TEST(Communicator, AutoPicksInnetWhenATreeExists) {
  auto world = star_world(4);
  ASSERT_TRUE(world);
  ASSERT_TRUE(world->innet_status().ok());
  ASSERT_TRUE(world
                  ->run([&](Communicator& comm) {
                    std::vector<float> x(100, 1.0f), y(100);
                    EXPECT_TRUE(comm.innet_available());
                    ASSERT_TRUE(
                        comm.allreduce(x.data(), y.data(), 100, Dtype::f32, ReduceOp::sum).ok());
                    EXPECT_EQ(comm.last_algorithm(), "innet");
                    EXPECT_EQ(comm.last_note(), "");
                    EXPECT_EQ(y, std::vector<float>(100, 4.0f));
                  })
                  .ok());
}

TEST(Communicator, AutoOnOneRankCopiesWithoutSendingAnything) {
  auto world = star_world(1);
  ASSERT_TRUE(world);
  ASSERT_TRUE(world
                  ->run([&](Communicator& comm) {
                    std::vector<float> x(10, 2.5f), y(10);
                    ASSERT_TRUE(
                        comm.allreduce(x.data(), y.data(), 10, Dtype::f32, ReduceOp::sum).ok());
                    EXPECT_FALSE(comm.last_algorithm().empty());
                    EXPECT_EQ(y, x);
                    EXPECT_EQ(packets_sent(comm), 0u);
                  })
                  .ok());
}

// World always fits its own tree (it asks for min(window, switch_slots)), so
// the fallback is driven here the way a second job would meet it: the
// manager's slots are taken and the communicator gets its no_resource.
TEST(Communicator, AutoFallsBackToAHostAlgorithmWithANoteWhenTheManagerHasNoSlots) {
  auto topo = topology::Topology::star(4, {}, {64, 1024});
  ASSERT_TRUE(topo.ok());
  manager::AggregationManager manager(*topo);
  auto first = manager.allocate(test::tree_request(1, 2, {0, 1, 2, 3}, 64));
  ASSERT_TRUE(first.ok());
  auto second = manager.allocate(test::tree_request(2, 3, {0, 1, 2, 3}, 64));
  ASSERT_EQ(second.status().code(), StatusCode::no_resource);

  sim::SimConfig config;
  config.endpoint.job = 2;
  config.endpoint.key_tag = 3;
  sim::SimFabric fabric(*topo, config);
  ASSERT_TRUE(
      fabric
          .run([&](std::uint32_t rank, protocol::HostDriver& driver) {
            Communicator comm(rank, 4, driver, nullptr, second.status(), false);
            EXPECT_FALSE(comm.innet_available());
            std::vector<std::int32_t> x(1000, static_cast<std::int32_t>(rank)), y(1000);
            ASSERT_TRUE(comm.allreduce(x.data(), y.data(), 1000, Dtype::i32, ReduceOp::sum).ok());
            EXPECT_EQ(comm.last_algorithm(), "ring");
            EXPECT_NE(comm.last_note().find("in-network unavailable"), std::string::npos)
                << comm.last_note();
            EXPECT_NE(comm.last_note().find("no_resource"), std::string::npos) << comm.last_note();
            EXPECT_EQ(y, std::vector<std::int32_t>(1000, 6));
            const Status innet = comm.allreduce(x.data(), y.data(), 1000, Dtype::i32, ReduceOp::sum,
                                                {.algorithm = "innet"});
            EXPECT_EQ(innet.code(), StatusCode::not_supported);
            EXPECT_NE(innet.message().find("switch0"), std::string::npos) << innet.message();
          })
          .ok());
  EXPECT_EQ(fabric.switch_counters(topo->switch_nodes()[0])->contributions, 0u);
}

// Ranks that disagree on the count never get mixed data: the switch refuses
// the chunk and tells every rank, which fails fast with `mismatch`.
TEST(Communicator, MismatchedInnetCountsEndInAMismatchNotAHang) {
  auto world = star_world(2);
  ASSERT_TRUE(world);
  std::vector<Status> got(2);
  ASSERT_TRUE(world
                  ->run([&](Communicator& comm) {
                    const std::size_t count = comm.rank() == 0 ? 100 : 50;
                    std::vector<float> x(count, 1.0f), y(count, -1.0f);
                    got[comm.rank()] = comm.allreduce(x.data(), y.data(), count, Dtype::f32,
                                                      ReduceOp::sum, {.algorithm = "innet"});
                    EXPECT_EQ(y, std::vector<float>(count, -1.0f));
                  })
                  .ok());
  for (const Status& s : got) EXPECT_EQ(s.code(), StatusCode::mismatch) << s.to_string();
  EXPECT_GT(world->stats().switch_drops, 0u);
}

TEST(Communicator, RankProgramExceptionsFailTheRun) {
  auto world = star_world(2);
  ASSERT_TRUE(world);
  Status s = world->run([](Communicator& comm) {
    if (comm.rank() == 1) throw std::runtime_error("rank program bug");
  });
  EXPECT_EQ(s.code(), StatusCode::internal);
  EXPECT_NE(s.message().find("rank program bug"), std::string::npos);
}

TEST(World, RejectsImpossibleFabrics) {
  auto bad = [](auto mutate) {
    FabricOptions o = test::small_fabric(TopologyKind::star, 4);
    mutate(o);
    return World::create(o).status().code();
  };
  EXPECT_EQ(bad([](FabricOptions& o) { o.ranks = 0; }), StatusCode::invalid_argument);
  EXPECT_EQ(bad([](FabricOptions& o) { o.link_gbps = 0; }), StatusCode::invalid_argument);
  EXPECT_EQ(bad([](FabricOptions& o) { o.latency = -1; }), StatusCode::invalid_argument);
  EXPECT_EQ(bad([](FabricOptions& o) { o.mtu = 16; }), StatusCode::invalid_argument);
  EXPECT_EQ(bad([](FabricOptions& o) { o.slot_bytes = 4; }), StatusCode::invalid_argument);
  EXPECT_EQ(bad([](FabricOptions& o) { o.window = 0; }), StatusCode::invalid_argument);
  EXPECT_EQ(bad([](FabricOptions& o) { o.switch_slots = 0; }), StatusCode::invalid_argument);
  EXPECT_EQ(bad([](FabricOptions& o) {
              o.topology = TopologyKind::leaf_spine;
              o.spines = 0;
            }),
            StatusCode::invalid_argument);
}

TEST(World, DescribesItsTreeAndModelFabric) {
  FabricOptions o = test::small_fabric(TopologyKind::leaf_spine, 6, 3);
  o.window = 1000;  // more than the switches have: the tree takes them all
  o.switch_slots = 100;
  o.slot_bytes = 1003;
  auto world = test::make_world(o);
  ASSERT_TRUE(world);
  EXPECT_TRUE(world->innet_status().ok());
  EXPECT_EQ(world->tree_levels(), 2u);
  EXPECT_NE(world->describe().find("100 slots x 1000 B"), std::string::npos) << world->describe();
  const ModelFabric f = world->model_fabric();
  EXPECT_EQ(f.ranks, 6u);
  EXPECT_EQ(f.window, 100u);
  EXPECT_EQ(f.slot_payload, 1000u);
  EXPECT_EQ(f.tree_links, 2u);
  EXPECT_EQ(f.packet_overhead, 32u + 66u);
  EXPECT_EQ(f.p2p_payload, 4096u - 32u);
  // Neighbours 2->3 and 5->0 cross leaves (4 links); the other four share one (2).
  EXPECT_DOUBLE_EQ(f.ring.links, (4.0 * 2 + 2 * 4) / 6);
  // Each leaf aggregates its 3 hosts, the root spine the 2 leaves.
  ASSERT_EQ(f.tree.size(), 2u);
  EXPECT_EQ(f.tree[0].children, 3u);
  EXPECT_EQ(f.tree[1].children, 2u);
}

}  // namespace
}  // namespace inca
