// The simulator's fault model on its own: seeded per-link fates, corruption
// that the wire checksum catches, outage windows, switch deaths, and the
// store of packets held off their link's FIFO.
#include <gtest/gtest.h>

#include "sim/fault_model.hpp"
#include "test_support.hpp"

namespace inca::sim {
namespace {

topology::Topology two_leaves() {
  return *topology::Topology::leaf_spine(4, 2, 2, {}, {}, {64, 1024});
}

std::uint32_t node(const topology::Topology& t, const std::string& name) {
  for (std::uint32_t id = 0; id < t.nodes().size(); ++id)
    if (t.node(id).name == name) return id;
  ADD_FAILURE() << name;
  return 0;
}

wire::Packet data_packet(std::uint32_t seq) {
  wire::Packet p = test::contribution(0, seq, std::vector<float>(64, 1.5f));
  return p;
}

TEST(FaultModel, EqualSeedsDecideEqualFatesPerLink) {
  const auto t = two_leaves();
  FaultPlan plan;
  plan.seed = 42;
  plan.every_link = {.drop = 0.2, .duplicate = 0.1, .reorder = 0.1};
  auto a = FaultModel::create(t, plan);
  auto b = FaultModel::create(t, plan);
  ASSERT_TRUE(a.ok() && b.ok());
  std::uint32_t lost = 0;
  std::vector<bool> fates;
  for (std::uint32_t i = 0; i < 2000; ++i) {
    wire::Packet pa = data_packet(i), pb = data_packet(i);
    const auto fa = (*a)->on_send(0, 0, i, pa);
    const auto fb = (*b)->on_send(0, 0, i, pb);
    EXPECT_EQ(fa.lost, fb.lost);
    EXPECT_EQ(fa.extra_delay, fb.extra_delay);
    EXPECT_EQ(fa.duplicate, fb.duplicate);
    lost += fa.lost;
    fates.push_back(fa.lost);
  }
  // Seeded, so the count is fixed; it is also near 20%.
  EXPECT_EQ(lost, (*a)->counters().dropped);
  EXPECT_GT(lost, 300u);
  EXPECT_LT(lost, 500u);
  // Every link has its own stream: traffic on one never shifts another's fates.
  auto c = FaultModel::create(t, plan);
  ASSERT_TRUE(c.ok());
  for (std::uint32_t i = 0; i < 500; ++i) {
    wire::Packet p = data_packet(i);
    (*c)->on_send(1, 0, i, p);
  }
  for (std::uint32_t i = 0; i < 2000; ++i) {
    wire::Packet p = data_packet(i);
    EXPECT_EQ((*c)->on_send(0, 0, i, p).lost, fates[i]) << i;
  }
}

TEST(FaultModel, CorruptedPacketsAreCaughtByTheChecksum) {
  const auto t = two_leaves();
  FaultPlan plan;
  plan.every_link.corrupt = 1.0;
  auto m = FaultModel::create(t, plan);
  ASSERT_TRUE(m.ok());
  for (std::uint32_t i = 0; i < 5000; ++i) {
    wire::Packet p = data_packet(i);
    EXPECT_TRUE((*m)->on_send(1, 0, 0, p).lost);
    wire::Packet timing = data_packet(i);
    timing.payload = nullptr;  // payload-free packets are checked as zeros
    EXPECT_TRUE((*m)->on_send(1, 1, 0, timing).lost);
  }
  EXPECT_EQ((*m)->counters().corrupted, 10000u);
  EXPECT_EQ((*m)->counters().corrupt_detected, 10000u);
  EXPECT_EQ((*m)->counters().corrupt_undetected, 0u);
}

TEST(FaultModel, OutagesHaveWindowsAndSwitchDeathsAreCounted) {
  const auto t = two_leaves();
  const std::uint32_t leaf0 = node(t, "leaf0"), spine1 = node(t, "spine1");
  FaultPlan plan;
  plan.link_outages.push_back({"leaf0", "spine1", 100, 200});
  plan.switch_outages.push_back({"spine1", 1000, 2000});
  plan.switch_outages.push_back({"spine1", 5000, kNever});
  auto m = FaultModel::create(t, plan);
  ASSERT_TRUE(m.ok());
  std::uint16_t up = 0;
  for (std::uint16_t p = 0; p < t.node(leaf0).ports.size(); ++p)
    if (t.node(leaf0).ports[p].peer_node == spine1) up = p;
  EXPECT_TRUE((*m)->link_up(leaf0, up, 99));
  EXPECT_FALSE((*m)->link_up(leaf0, up, 100));
  EXPECT_FALSE((*m)->link_up(leaf0, up, 199));
  EXPECT_TRUE((*m)->link_up(leaf0, up, 200));
  const auto& back = t.node(leaf0).ports[up];
  EXPECT_FALSE((*m)->link_up(spine1, back.peer_port, 150));  // both directions
  wire::Packet p = data_packet(0);
  EXPECT_TRUE((*m)->on_send(leaf0, up, 150, p).lost);
  EXPECT_FALSE((*m)->on_arrival(leaf0, up, spine1, 150));
  EXPECT_EQ((*m)->counters().link_down_drops, 2u);

  EXPECT_TRUE((*m)->node_up(spine1, 999));
  EXPECT_FALSE((*m)->node_up(spine1, 1000));
  EXPECT_TRUE((*m)->node_up(spine1, 2000));
  EXPECT_FALSE((*m)->node_up(spine1, 9999));
  EXPECT_EQ((*m)->deaths(spine1, 999), 0u);
  EXPECT_EQ((*m)->deaths(spine1, 1500), 1u);
  EXPECT_EQ((*m)->deaths(spine1, 6000), 2u);
  EXPECT_FALSE((*m)->on_arrival(leaf0, up, spine1, 1500));
  EXPECT_EQ((*m)->counters().switch_down_drops, 1u);
}

TEST(FaultModel, HeldPacketsComeBackIntact) {
  auto m = FaultModel::create(two_leaves(), FaultPlan{});
  ASSERT_TRUE(m.ok());
  const std::uint32_t a = (*m)->hold(data_packet(1));
  const std::uint32_t b = (*m)->hold(data_packet(2));
  EXPECT_EQ((*m)->release(a).header.sequence, 1u);
  const std::uint32_t c = (*m)->hold(data_packet(3));  // reuses a's place
  EXPECT_EQ(c, a);
  EXPECT_EQ((*m)->release(b).header.sequence, 2u);
  EXPECT_EQ(test::values_of((*m)->release(c)), std::vector<float>(64, 1.5f));
}

}  // namespace
}  // namespace inca::sim
