// The aggregation manager on star and leaf-spine fabrics: where roots go, how
// child indexes line up with installs and ports, slot accounting, exhaustion
// without leaks, and rejected requests. Installs are also applied to real
// engines, so manager and switch agree on what a valid tree is.
#include "manager/aggregation_manager.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "engine/aggregation_node.hpp"
#include "test_support.hpp"

namespace inca::manager {
namespace {

using topology::Topology;

const topology::LinkSpec kLink{};

Topology star(std::uint32_t hosts, std::uint32_t slots = 512, std::uint32_t payload = 1024) {
  auto t = Topology::star(hosts, kLink, {slots, payload});
  EXPECT_TRUE(t.ok());
  return std::move(*t);
}

Topology leaf_spine(std::uint32_t hosts, std::uint32_t per_leaf, std::uint32_t spines,
                    std::uint32_t slots = 512) {
  auto t = Topology::leaf_spine(hosts, per_leaf, spines, kLink, kLink, {slots, 1024});
  EXPECT_TRUE(t.ok());
  return std::move(*t);
}

TreeRequest request(std::vector<std::uint32_t> hosts, std::uint32_t slots = 16) {
  return test::tree_request(9, 0x5eed, std::move(hosts), slots);
}

std::uint32_t leaf_of(const Topology& t, std::uint32_t host) {
  return t.node(t.host_node(host)).ports[0].peer_node;
}

const wire::TreeInstall& install_on(const TreePlan& plan, std::uint32_t sw) {
  for (const auto& [node, install] : plan.installs)
    if (node == sw) return install;
  ADD_FAILURE() << "no install on switch node " << sw;
  static const wire::TreeInstall none;
  return none;
}

// The invariants every plan must satisfy, checked against the topology:
// - each member's child index selects, at its leaf, the port it is plugged in;
// - each non-root install's index_at_parent selects, at the parent, the port
//   its uplink arrives on, and that parent has an install of its own;
// - the root alone has no parent, and every install carries the request.
void expect_consistent(const Topology& t, const TreeRequest& req, const TreePlan& plan) {
  ASSERT_EQ(plan.members.size(), req.hosts.size());
  for (std::size_t i = 0; i < req.hosts.size(); ++i) {
    const HostAttachment& m = plan.members[i];
    EXPECT_EQ(m.host, req.hosts[i]);
    EXPECT_EQ(m.leaf_node, leaf_of(t, m.host));
    const auto& at_leaf = install_on(plan, m.leaf_node);
    ASSERT_LT(m.child_index, at_leaf.child_ports.size());
    EXPECT_EQ(at_leaf.child_ports[m.child_index], t.node(t.host_node(m.host)).ports[0].peer_port);
  }
  std::map<std::uint32_t, int> roots;
  for (const auto& [sw, install] : plan.installs) {
    EXPECT_EQ(install.job, req.job);
    EXPECT_EQ(install.key_tag, req.key_tag);
    EXPECT_EQ(install.tree, plan.tree);
    EXPECT_EQ(install.slot_count, req.slots);
    EXPECT_EQ(install.slot_payload_bytes, plan.slot_payload_bytes);
    EXPECT_TRUE(std::is_sorted(install.child_ports.begin(), install.child_ports.end()));
    if (install.parent_port == wire::kNoPort) {
      ++roots[sw];
      continue;
    }
    const topology::Port& up = t.node(sw).ports[install.parent_port];
    const auto& parent = install_on(plan, up.peer_node);
    ASSERT_LT(install.index_at_parent, parent.child_ports.size());
    EXPECT_EQ(parent.child_ports[install.index_at_parent], up.peer_port);
  }
  ASSERT_EQ(roots.size(), 1u);
  EXPECT_EQ(roots.begin()->first, plan.root);
}

// Applies a plan to one engine per switch, as a fabric does.
void expect_engines_accept(const Topology& t, const TreePlan& plan) {
  for (const auto& [sw, install] : plan.installs) {
    const auto& spec = t.node(sw).switch_spec;
    engine::AggregationNode node({spec.slots, spec.slot_payload_bytes});
    EXPECT_TRUE(node.install(install).ok()) << t.node(sw).name;
  }
}

TEST(AggregationManager, StarTreeIsRootedAtTheSwitchWithHostsInPortOrder) {
  Topology t = star(4, 512, 1000);
  AggregationManager m(t);
  const TreeRequest req = request({3, 0, 2, 1});
  auto plan = m.allocate(req);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  const std::uint32_t sw = t.switch_nodes()[0];
  EXPECT_EQ(plan->root, sw);
  EXPECT_EQ(plan->switch_levels, 1u);
  EXPECT_EQ(plan->slots, 16u);
  EXPECT_EQ(plan->slot_payload_bytes, 1000u);  // the switch offers less than asked
  ASSERT_EQ(plan->installs.size(), 1u);
  EXPECT_EQ(plan->installs[0].second.child_ports, (std::vector<std::uint16_t>{0, 1, 2, 3}));
  EXPECT_EQ(plan->members[0].child_index, 3u);  // host 3 on port 3, whatever its rank
  expect_consistent(t, req, *plan);
  expect_engines_accept(t, *plan);
  EXPECT_EQ(m.free_slots(sw), 512u - 16u);
}

TEST(AggregationManager, MembersSpanningLeavesAreRootedAtASpine) {
  Topology t = leaf_spine(7, 3, 2);  // leaves of 3, 3, 1
  AggregationManager m(t);
  const TreeRequest req = request({0, 1, 2, 3, 4, 5, 6});
  auto plan = m.allocate(req);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(t.node(plan->root).tier, 2u);
  EXPECT_EQ(plan->switch_levels, 2u);
  EXPECT_EQ(plan->installs.size(), 4u);  // 3 leaves + the root
  expect_consistent(t, req, *plan);
  expect_engines_accept(t, *plan);
  // Hosts of one leaf are its children in host order; the root's children
  // are the leaves in leaf order (the fold order of reproducible mode).
  for (std::uint32_t h = 0; h < 7; ++h) EXPECT_EQ(plan->members[h].child_index, h % 3);
  const auto& root = install_on(*plan, plan->root);
  ASSERT_EQ(root.child_ports.size(), 3u);
  for (std::uint16_t i = 0; i < 3; ++i)
    EXPECT_EQ(t.node(plan->root).ports[root.child_ports[i]].peer_node, leaf_of(t, 3 * i));
  for (std::uint32_t sw : t.switch_nodes()) {
    const bool used = sw == plan->root || t.node(sw).tier == 1;
    EXPECT_EQ(m.free_slots(sw), used ? 512u - 16u : 512u) << t.node(sw).name;
  }
}

TEST(AggregationManager, MembersOnOneLeafAreRootedAtThatLeaf) {
  Topology t = leaf_spine(9, 3, 2);
  AggregationManager m(t);
  const TreeRequest req = request({5, 3, 4});
  auto plan = m.allocate(req);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->root, leaf_of(t, 3));
  EXPECT_EQ(plan->switch_levels, 1u);
  ASSERT_EQ(plan->installs.size(), 1u);
  EXPECT_EQ(plan->installs[0].second.parent_port, wire::kNoPort);
  EXPECT_EQ(plan->members[0].child_index, 2u);
  expect_consistent(t, req, *plan);

  const TreeRequest alone = request({7});
  auto single = m.allocate(alone);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->root, leaf_of(t, 7));
  EXPECT_EQ(single->installs[0].second.child_ports.size(), 1u);
  expect_consistent(t, alone, *single);
}

TEST(AggregationManager, TreesThatCouldUseAnySpineAreSpreadOverThem) {
  Topology t = leaf_spine(4, 2, 2);
  AggregationManager m(t);
  auto a = m.allocate(request({0, 2}));
  auto b = m.allocate(request({1, 3}));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->tree, b->tree);
  EXPECT_NE(a->root, b->root);
  EXPECT_EQ(t.node(a->root).tier, 2u);
  EXPECT_EQ(t.node(b->root).tier, 2u);
}

TEST(AggregationManager, PayloadIsTheSmallestOfferRoundedToWholeElements) {
  Topology t = star(2);
  AggregationManager m(t);
  TreeRequest req = request({0, 1});
  req.max_payload_bytes = 1003;
  auto plan = m.allocate(req);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->slot_payload_bytes, 1000u);
  req.max_payload_bytes = 7;
  EXPECT_EQ(m.allocate(req).status().code(), StatusCode::no_resource);
}

TEST(AggregationManager, ExhaustedSlotsNameTheSwitchAndLeakNothing) {
  Topology t = star(3, 100);
  AggregationManager m(t);
  const std::uint32_t sw = t.switch_nodes()[0];
  auto first = m.allocate(request({0, 1, 2}, 64));
  ASSERT_TRUE(first.ok());
  auto second = m.allocate(request({0, 1}, 64));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::no_resource);
  EXPECT_NE(second.status().message().find("switch0"), std::string::npos)
      << second.status().message();
  EXPECT_NE(second.status().message().find("36"), std::string::npos) << "what is free";
  EXPECT_EQ(m.free_slots(sw), 36u);

  auto smaller = m.allocate(request({0, 1}, 36));
  ASSERT_TRUE(smaller.ok());
  EXPECT_EQ(m.free_slots(sw), 0u);
  ASSERT_TRUE(m.release(*first).ok());
  EXPECT_EQ(m.free_slots(sw), 64u);
  EXPECT_TRUE(m.allocate(request({1, 2}, 64)).ok());
  EXPECT_FALSE(m.release(*first).ok());  // already released
}

// A tree over two leaves reserves leaf0 before it finds leaf1 full; the
// failure must hand leaf0's slots back.
TEST(AggregationManager, FailureHalfwayThroughATreeRollsBackEarlierSwitches) {
  Topology t = leaf_spine(4, 2, 1, 100);
  AggregationManager m(t);
  const std::uint32_t leaf0 = leaf_of(t, 0);
  const std::uint32_t leaf1 = leaf_of(t, 2);
  ASSERT_TRUE(m.allocate(request({2, 3}, 90)).ok());  // leaf1 only
  auto across = m.allocate(request({0, 1, 2, 3}, 20));
  ASSERT_EQ(across.status().code(), StatusCode::no_resource);
  EXPECT_NE(across.status().message().find("leaf1"), std::string::npos)
      << across.status().message();
  EXPECT_NE(leaf0, leaf1);
  for (std::uint32_t sw : t.switch_nodes())
    EXPECT_EQ(m.free_slots(sw), sw == leaf1 ? 10u : 100u) << t.node(sw).name;
  EXPECT_TRUE(m.allocate(request({0, 1, 2, 3}, 10)).ok());
}

TEST(AggregationManager, RejectsInvalidRequests) {
  Topology t = star(4);
  AggregationManager m(t);
  EXPECT_EQ(m.allocate(request({})).status().code(), StatusCode::invalid_argument);
  EXPECT_EQ(m.allocate(request({0, 1}, 0)).status().code(), StatusCode::invalid_argument);
  EXPECT_EQ(m.allocate(request({0, 1}, 32769)).status().code(), StatusCode::invalid_argument);
  EXPECT_EQ(m.allocate(request({0, 1, 0})).status().code(), StatusCode::invalid_argument);
  EXPECT_EQ(m.allocate(request({0, 4})).status().code(), StatusCode::invalid_argument);
  EXPECT_EQ(m.free_slots(t.switch_nodes()[0]), 512u);
  EXPECT_EQ(m.free_slots(t.host_node(0)), 0u);  // hosts have no pool
}

}  // namespace
}  // namespace inca::manager
