// Tenant isolation end to end: hosts that forge contributions, results and
// errors into a job's tree (with the wrong key tag, from a port that is not a
// member's, for a tree that does not exist there) change nothing in that
// job's result, and every forged packet lands in its switch drop counter.
#include <gtest/gtest.h>

#include "inca/communicator.hpp"
#include "manager/aggregation_manager.hpp"
#include "protocol/host_driver.hpp"
#include "reliability_support.hpp"
#include "sim/sim_fabric.hpp"
#include "wire/error_payload.hpp"

namespace inca {
namespace {

constexpr std::uint32_t kJob = 4;
constexpr std::uint32_t kKey = 0x0ddba11;
constexpr std::uint32_t kMembers = 4;  // hosts 0-3 run the job; hosts 4-5 are rogues
constexpr std::size_t kCount = 4096;   // f32, 1024 per 4 KiB slot: 4 chunks
constexpr std::uint32_t kRounds = 40;  // forged bursts, 1 us apart, while the job runs

std::vector<wire::Packet> forged_burst(const manager::TreePlan& plan, std::uint32_t rogue) {
  std::vector<wire::Packet> out;
  const std::vector<float> poison(1024, 1e9f);
  for (std::uint32_t seq = 0; seq < kCount / 1024; ++seq) {
    wire::Packet p;
    p.header.type = wire::PacketType::contribution;
    p.header.job = kJob;
    p.header.key_tag = kKey;
    p.header.tree = plan.tree;
    p.header.slot = static_cast<std::uint16_t>(seq % plan.slots);
    p.header.shadow = (seq / plan.slots) % 2 != 0;
    p.header.sequence = seq;
    p.header.count = 1024;
    p.header.child = 0;  // a member's child index, from the rogue's own port
    p.header.flags = seq + 1 == kCount / 1024 ? wire::kFlagLast : 0;
    p.payload = test::payload_of(poison);
    p.src = rogue;
    out.push_back(p);  // right key, wrong port: drop_bad_child

    wire::Packet bad_key = p;
    bad_key.header.key_tag ^= 0x1;
    out.push_back(bad_key);  // drop_bad_key

    wire::Packet other_tree = p;
    other_tree.header.tree = static_cast<std::uint16_t>(plan.tree + 7);
    out.push_back(other_tree);  // drop_unknown_tree

    wire::Packet result = p;
    result.header.type = wire::PacketType::result;
    out.push_back(result);  // results come only from the parent: drop_bad_child

    wire::Packet error;
    error.header = p.header;
    error.header.type = wire::PacketType::error;
    error.header.dtype = Dtype::u8;
    error.header.sequence = static_cast<std::uint32_t>(StatusCode::mismatch);
    error.payload = wire::make_error_payload(seq, "forged");
    error.header.count = static_cast<std::uint32_t>(error.payload->size());
    out.push_back(error);  // errors too: drop_bad_child

    wire::Packet p2p;  // point-to-point with a guessed key, straight to a member
    p2p.header.type = wire::PacketType::p2p;
    p2p.header.job = kJob;
    p2p.header.key_tag = kKey + 1;
    p2p.header.tree = static_cast<std::uint16_t>(Communicator::kCollectiveTag);
    p2p.header.count = 16;
    p2p.payload = wire::make_payload(std::vector<std::byte>(16, std::byte{0xff}));
    p2p.src = rogue;
    p2p.dst = seq % kMembers;
    out.push_back(p2p);  // the member's endpoint drops it
  }
  return out;
}

TEST(Isolation, ForgedPacketsFromOutsideTheJobChangeNothingAndAreCounted) {
  for (TopologyKind kind : {TopologyKind::star, TopologyKind::leaf_spine}) {
    // Links carry a 4096-byte payload behind its header.
    const topology::LinkSpec link{100.0, 500 * kPicosPerNano, 4096 + wire::kHeaderBytes};
    auto topo = kind == TopologyKind::star
                    ? topology::Topology::star(6, link, {64, 4096})
                    : topology::Topology::leaf_spine(6, 2, 2, link, link, {64, 4096});
    ASSERT_TRUE(topo.ok());
    manager::AggregationManager manager(*topo);
    auto plan = manager.allocate(test::tree_request(kJob, kKey, {0, 1, 2, 3}, 8, 4096));
    ASSERT_TRUE(plan.ok()) << plan.status().to_string();
    sim::SimConfig config;
    config.endpoint.job = kJob;
    config.endpoint.key_tag = kKey;
    sim::SimFabric fabric(*topo, config);
    for (const auto& [node, install] : plan->installs)
      ASSERT_TRUE(fabric.install(node, install).ok());

    std::vector<test::Bytes> inputs;
    for (std::uint32_t r = 0; r < kMembers; ++r)
      inputs.push_back(test::exact_input(kCount, Dtype::f32, ReduceOp::sum, r));
    const test::Bytes want = test::fold_in_rank_order(inputs, kCount, Dtype::f32, ReduceOp::sum);
    std::vector<std::string> got(kMembers, "not run");
    ASSERT_TRUE(fabric
                    .run([&](std::uint32_t rank, protocol::HostDriver& driver) {
                      if (rank >= kMembers) {
                        for (std::uint32_t i = 0; i < kRounds; ++i) {
                          protocol::Outbox out = forged_burst(*plan, rank);
                          driver.transmit(out);
                          driver.block_until([] { return false; }, driver.now() + kPicosPerMicro);
                        }
                        // Stay until every forged packet has arrived somewhere.
                        driver.block_until([] { return false; },
                                           driver.now() + 100 * kPicosPerMicro);
                        return;
                      }
                      Communicator comm(rank, kMembers, driver, &*plan, Status(), false);
                      test::Bytes recv(inputs[rank].size());
                      Status s = comm.innet_allreduce(inputs[rank].data(), recv.data(), kCount,
                                                      Dtype::f32, ReduceOp::sum);
                      got[rank] = s.ok() ? test::first_difference(recv, want, 4) : s.to_string();
                    })
                    .ok());
    for (std::uint32_t r = 0; r < kMembers; ++r) EXPECT_EQ(got[r], "") << "rank " << r;

    engine::EngineCounters sum;
    for (std::uint32_t sw : topo->switch_nodes()) {
      const auto& c = *fabric.switch_counters(sw);
      sum.contributions += c.contributions;
      sum.drop_bad_key += c.drop_bad_key;
      sum.drop_bad_child += c.drop_bad_child;
      sum.drop_unknown_tree += c.drop_unknown_tree;
      sum.errors_in += c.errors_in;
      EXPECT_EQ(c.packets_in, engine::classified_packets(c));
    }
    const std::uint64_t bursts = 2 * kRounds * (kCount / 1024);  // 2 rogues
    // Only members' contributions were aggregated: 4 hosts (+ 2 leaves on the
    // leaf-spine, whose hosts 4-5 sit on a leaf of their own) per chunk.
    const std::uint64_t per_chunk = kind == TopologyKind::star ? kMembers : kMembers + 2;
    EXPECT_EQ(sum.contributions, per_chunk * (kCount / 1024));
    EXPECT_EQ(sum.errors_in, 0u);
    if (kind == TopologyKind::star) {
      EXPECT_EQ(sum.drop_bad_key, bursts);
      EXPECT_EQ(sum.drop_unknown_tree, bursts);
      EXPECT_EQ(sum.drop_bad_child, 3 * bursts);  // contribution, result, error
    } else {
      // Hosts 4-5 hang off leaf2, which is not in the tree: it knows no such
      // tree, so everything they forge stops there.
      EXPECT_EQ(sum.drop_unknown_tree, 5 * bursts);
    }
    std::uint64_t host_drops = 0;
    for (std::uint32_t r = 0; r < kMembers; ++r)
      host_drops += fabric.endpoint(r).counters().dropped;
    EXPECT_EQ(host_drops, bursts);
  }
}

// A member of the job forges too: it claims another member's child index, and
// sends results and errors up. Its own contribution still counts once.
TEST(Isolation, AMemberForgingAnotherMembersContributionsChangesNothing) {
  FabricOptions o = test::small_fabric(TopologyKind::leaf_spine, 6, 3);
  auto world = test::make_world(o);
  ASSERT_TRUE(world);
  std::vector<test::Bytes> inputs;
  for (std::uint32_t r = 0; r < 6; ++r)
    inputs.push_back(test::exact_input(kCount, Dtype::i32, ReduceOp::sum, r));
  const test::Bytes want = test::fold_in_rank_order(inputs, kCount, Dtype::i32, ReduceOp::sum);
  std::vector<std::string> got(6, "not run");
  ASSERT_TRUE(world
                  ->run([&](Communicator& comm) {
                    const auto r = static_cast<std::uint32_t>(comm.rank());
                    if (r == 5) {
                      // Claim child index 0 (host 3's) at leaf1, for the first chunks.
                      protocol::Outbox out;
                      for (std::uint32_t seq = 0; seq < 2; ++seq) {
                        wire::Packet p;
                        p.header.type = wire::PacketType::contribution;
                        p.header.dtype = Dtype::i32;
                        p.header.job = o.job;
                        p.header.key_tag = o.key_tag;
                        p.header.tree = 1;
                        p.header.slot = static_cast<std::uint16_t>(seq);
                        p.header.sequence = seq;
                        p.header.count = 512;
                        p.header.child = 0;
                        p.payload = wire::make_payload(std::vector<std::byte>(2048, std::byte{7}));
                        out.push_back(p);
                        p.header.type = wire::PacketType::result;
                        out.push_back(p);
                      }
                      comm.driver().transmit(out);
                    }
                    test::Bytes recv(inputs[r].size());
                    Status s = comm.allreduce(inputs[r].data(), recv.data(), kCount, Dtype::i32,
                                              ReduceOp::sum, {.algorithm = "innet"});
                    got[r] = s.ok() ? test::first_difference(recv, want, 4) : s.to_string();
                  })
                  .ok());
  for (std::uint32_t r = 0; r < 6; ++r) EXPECT_EQ(got[r], "") << "rank " << r;
  EXPECT_EQ(world->stats().switch_drop_bad_child, 4u);
  EXPECT_EQ(world->stats().reruns, 0u);
}

}  // namespace
}  // namespace inca
