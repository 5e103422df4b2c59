// TreeRequest::placement on a fabric with scale-up domains: a group of one
// domain reaches its domain switch and its leaf alike; `scale_up` roots it on
// the domain switch through the hosts' NVLink ports, `scale_out` on the
// leaf-spine through their NICs, and a scale-up tree cannot span domains.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fabric/fabric_topology.hpp"
#include "inca/fabric_description.hpp"
#include "manager/aggregation_manager.hpp"
#include "test_support.hpp"

namespace inca::manager {
namespace {

topology::Topology scale_up_fabric() {
  const FabricLoad load = FabricDescription::parse(test::kTwoPortHostsFabric, "placement.yaml", {});
  EXPECT_TRUE(load.ok()) << load.report();
  auto t = fabric_file::build_topology(*load.description);
  EXPECT_TRUE(t.ok());
  return std::move(*t);
}

const std::string& root_name(const topology::Topology& t, const TreePlan& plan) {
  return t.node(plan.root).name;
}

TEST(AggregationManagerPlacement, ScaleUpSwitchesAreTheDomainsOnly) {
  const topology::Topology t = scale_up_fabric();
  std::vector<std::string> scale_up;
  for (std::uint32_t sw : t.switch_nodes())
    if (is_scale_up_switch(t, sw)) scale_up.push_back(t.node(sw).name);
  EXPECT_EQ(scale_up, (std::vector<std::string>{"domain0", "domain1"}));
  // A star's switch links only hosts too, but they have no other way out.
  auto star = topology::Topology::star(4, {}, {512, 1024});
  ASSERT_TRUE(star.ok());
  for (std::uint32_t sw : star->switch_nodes()) EXPECT_FALSE(is_scale_up_switch(*star, sw));
}

TEST(AggregationManagerPlacement, OneDomainsGroupRootsWhereItsPlacementSays) {
  const topology::Topology t = scale_up_fabric();
  AggregationManager manager(t);
  TreeRequest req = test::tree_request(9, 0x5eed, {4, 5, 6, 7}, 16);
  req.placement = TreePlacement::scale_up;
  auto up = manager.allocate(req);
  ASSERT_TRUE(up.ok()) << up.status().to_string();
  EXPECT_EQ(root_name(t, *up), "domain1");
  EXPECT_EQ(up->switch_levels, 1u);
  ASSERT_EQ(up->installs.size(), 1u);
  for (const HostAttachment& m : up->members) EXPECT_EQ(m.host_port, 1u) << m.host;  // nvlink
  req.placement = TreePlacement::scale_out;
  auto out = manager.allocate(req);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(root_name(t, *out), "leaf1");
  for (const HostAttachment& m : out->members) EXPECT_EQ(m.host_port, 0u) << m.host;  // ib0
  // Unplaced, both roots are one hop from every member: either may win, so
  // every tree id in a row lands on both.
  req.placement = TreePlacement::any;
  std::vector<std::string> roots;
  for (int i = 0; i < 2; ++i) {
    auto any = manager.allocate(req);
    ASSERT_TRUE(any.ok());
    roots.push_back(root_name(t, *any));
  }
  std::sort(roots.begin(), roots.end());
  EXPECT_EQ(roots, (std::vector<std::string>{"domain1", "leaf1"}));
}

TEST(AggregationManagerPlacement, AScaleUpTreeCannotSpanDomainsButAScaleOutTreeCan) {
  const topology::Topology t = scale_up_fabric();
  AggregationManager manager(t);
  TreeRequest req = test::tree_request(9, 0x5eed, {0, 4}, 16);
  req.placement = TreePlacement::scale_up;
  auto up = manager.allocate(req);
  EXPECT_EQ(up.status().code(), StatusCode::no_tree);
  req.placement = TreePlacement::scale_out;
  auto out = manager.allocate(req);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(root_name(t, *out).rfind("spine", 0), 0u) << root_name(t, *out);
  EXPECT_EQ(out->switch_levels, 2u);
}

// Trees of one placement that avoid nothing share the manager's searched
// distances; a request that avoids a link searches its own, so a tree
// allocated after the shared ones still goes around the link.
TEST(AggregationManagerPlacement, ARequestAvoidingALinkDoesNotUseTheSharedDistances) {
  const topology::Topology t = scale_up_fabric();
  AggregationManager manager(t);
  auto id = [&](const std::string& name) {
    for (std::uint32_t n = 0; n < t.nodes().size(); ++n)
      if (t.node(n).name == name) return n;
    return 0u;
  };
  TreeRequest req = test::tree_request(9, 0x5eed, {0, 4}, 16);
  req.placement = TreePlacement::scale_out;
  for (int i = 0; i < 2; ++i) {  // both spines, whatever the rotation prefers
    auto shared = manager.allocate(req);
    ASSERT_TRUE(shared.ok()) << shared.status().to_string();
    EXPECT_EQ(shared->switch_levels, 2u);
    ASSERT_TRUE(manager.release(*shared).ok());
  }
  // leaf1's link to spine1 is down: only spine0 reaches both members in 2 hops.
  const auto& leaf1 = t.node(id("leaf1"));
  for (std::uint16_t p = 0; p < leaf1.ports.size(); ++p)
    if (leaf1.ports[p].peer_node == id("spine1")) req.avoid_links.push_back({id("leaf1"), p});
  ASSERT_FALSE(req.avoid_links.empty());
  for (int i = 0; i < 2; ++i) {
    auto around = manager.allocate(req);
    ASSERT_TRUE(around.ok()) << around.status().to_string();
    EXPECT_EQ(around->root, id("spine0"));
    ASSERT_TRUE(manager.release(*around).ok());
  }
}

}  // namespace
}  // namespace inca::manager
