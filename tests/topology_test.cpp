// Fabric builders, hop distances and the deterministic routing tables.
#include "topology/topology.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace inca::topology {
namespace {

const LinkSpec kLink{};
const SwitchSpec kSwitch{};

Topology leaf_spine_or_die(std::uint32_t hosts, std::uint32_t per_leaf, std::uint32_t spines) {
  auto t = Topology::leaf_spine(hosts, per_leaf, spines, kLink, kLink, kSwitch);
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  return std::move(*t);
}

// Every consecutive pair on a path must be joined by a link.
bool connected(const Topology& t, std::uint32_t a, std::uint32_t b) {
  for (const Port& p : t.node(a).ports)
    if (p.peer_node == b) return true;
  return false;
}

TEST(Topology, StarHasOneSwitchWithAPortPerHost) {
  auto t = Topology::star(5, kLink, SwitchSpec{77, 512});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->nodes().size(), 6u);
  EXPECT_EQ(t->host_count(), 5u);
  ASSERT_EQ(t->switch_nodes().size(), 1u);
  const Node& sw = t->node(t->switch_nodes()[0]);
  EXPECT_EQ(sw.kind, NodeKind::switch_node);
  EXPECT_EQ(sw.ports.size(), 5u);
  EXPECT_EQ(sw.switch_spec.slots, 77u);
  EXPECT_EQ(sw.switch_spec.slot_payload_bytes, 512u);
  for (std::uint32_t h = 0; h < 5; ++h) {
    const Node& host = t->node(t->host_node(h));
    EXPECT_EQ(host.kind, NodeKind::host);
    EXPECT_EQ(host.host_index, h);
    ASSERT_EQ(host.ports.size(), 1u);
    EXPECT_EQ(sw.ports[host.ports[0].peer_port].peer_node, t->host_node(h));
  }
  EXPECT_NE(t->describe().find("star"), std::string::npos);
}

TEST(Topology, LeafSpineHasCeilLeavesEachJoinedToEverySpine) {
  Topology t = leaf_spine_or_die(10, 4, 3);  // leaves of 4, 4, 2 hosts
  EXPECT_EQ(t.nodes().size(), 10u + 3u + 3u);
  std::vector<std::uint32_t> leaves, spines;
  for (std::uint32_t sw : t.switch_nodes()) (t.node(sw).tier == 1 ? leaves : spines).push_back(sw);
  ASSERT_EQ(leaves.size(), 3u);
  ASSERT_EQ(spines.size(), 3u);
  EXPECT_EQ(t.node(leaves[0]).ports.size(), 4u + 3u);
  EXPECT_EQ(t.node(leaves[2]).ports.size(), 2u + 3u);
  for (std::uint32_t s : spines) {
    EXPECT_EQ(t.node(s).ports.size(), 3u);
    for (std::uint32_t l : leaves) EXPECT_TRUE(connected(t, s, l));
  }
  // Host h hangs off leaf h / 4.
  for (std::uint32_t h = 0; h < 10; ++h)
    EXPECT_EQ(t.node(t.host_node(h)).ports[0].peer_node, leaves[h / 4]) << "host " << h;
}

TEST(Topology, PathsAreTwoHopsOnALeafAndFourAcross) {
  Topology t = leaf_spine_or_die(8, 4, 2);
  for (std::uint32_t a = 0; a < 8; ++a)
    for (std::uint32_t b = 0; b < 8; ++b) {
      const auto path = t.path(a, b);
      const std::size_t hops = path.size() - 1;
      const std::size_t want = a == b ? 0 : (a / 4 == b / 4 ? 2 : 4);
      EXPECT_EQ(hops, want) << a << " -> " << b;
      EXPECT_EQ(path.front(), t.host_node(a));
      EXPECT_EQ(path.back(), t.host_node(b));
      for (std::size_t i = 1; i < path.size(); ++i) EXPECT_TRUE(connected(t, path[i - 1], path[i]));
    }
  auto star = Topology::star(3, kLink, kSwitch);
  ASSERT_TRUE(star.ok());
  EXPECT_EQ(star->path(0, 2).size(), 3u);
}

TEST(Topology, DistancesFromSwitchesCountHops) {
  Topology t = leaf_spine_or_die(4, 2, 2);
  const std::uint32_t leaf0 = t.node(t.host_node(0)).ports[0].peer_node;
  std::uint32_t spine = 0;
  for (std::uint32_t sw : t.switch_nodes())
    if (t.node(sw).tier == 2) spine = sw;
  EXPECT_EQ(t.distance_from_switch(leaf0, leaf0), 0u);
  EXPECT_EQ(t.distance_from_switch(leaf0, t.host_node(1)), 1u);
  EXPECT_EQ(t.distance_from_switch(leaf0, t.host_node(2)), 3u);
  EXPECT_EQ(t.distance_from_switch(spine, t.host_node(3)), 2u);
  EXPECT_EQ(t.distance_from_switch(spine, leaf0), 1u);
}

// Destination-hashed ECMP: uplinks are picked by destination index, so the
// routes of a leaf spread evenly over the spines and never change.
TEST(Topology, EcmpSpreadsDestinationsEvenlyAndDeterministicallyOverSpines) {
  Topology t = leaf_spine_or_die(32, 8, 4);
  Topology again = leaf_spine_or_die(32, 8, 4);
  const std::uint32_t leaf0 = t.node(t.host_node(0)).ports[0].peer_node;
  std::map<std::uint32_t, int> per_spine;
  for (std::uint32_t dst = 8; dst < 32; ++dst) {
    const std::uint16_t port = t.route(leaf0, dst);
    EXPECT_EQ(port, again.route(leaf0, dst));
    const std::uint32_t next = t.node(leaf0).ports[port].peer_node;
    EXPECT_EQ(t.node(next).tier, 2u);
    ++per_spine[next];
  }
  ASSERT_EQ(per_spine.size(), 4u);
  for (const auto& [spine, n] : per_spine) EXPECT_EQ(n, 6) << t.node(spine).name;
  // Toward its own hosts a leaf uses the host's port, never a spine.
  for (std::uint32_t dst = 0; dst < 8; ++dst)
    EXPECT_EQ(t.node(leaf0).ports[t.route(leaf0, dst)].peer_node, t.host_node(dst));
}

// Two leaves of 8 hosts, 2 spines, 4 parallel links from each leaf to each
// spine (8 uplinks: non-blocking). Every destination on leaf 1 arrives at a
// spine in its residue class modulo 2; the spine must still spread them over
// its 4 parallel downlinks, or the fabric runs 4:1 oversubscribed.
TEST(Topology, ParallelLinksBetweenTwoSwitchesAllCarryTraffic) {
  Topology t;
  const std::uint32_t leaf0 = t.add_switch("leaf0", kSwitch, 1);
  const std::uint32_t leaf1 = t.add_switch("leaf1", kSwitch, 1);
  const std::uint32_t spine0 = t.add_switch("spine0", kSwitch, 2);
  const std::uint32_t spine1 = t.add_switch("spine1", kSwitch, 2);
  for (int h = 0; h < 16; ++h)
    t.connect(t.add_host(fmt::format("h{}", h)), h < 8 ? leaf0 : leaf1, kLink);
  for (std::uint32_t leaf : {leaf0, leaf1})
    for (int j = 0; j < 8; ++j) t.connect(leaf, j % 2 == 0 ? spine0 : spine1, kLink);
  t.finalize();
  std::map<std::pair<std::uint32_t, std::uint16_t>, int> up, down;
  for (std::uint32_t dst = 8; dst < 16; ++dst) {
    const std::vector<std::uint32_t> path = t.path(0, dst);
    ASSERT_EQ(path.size(), 5u);
    ++up[{path[1], t.route(path[1], dst)}];
    ++down[{path[2], t.route(path[2], dst)}];
  }
  EXPECT_EQ(up.size(), 8u);
  EXPECT_EQ(down.size(), 8u);  // each of the 8 spine-to-leaf1 links carries one destination
}

TEST(Topology, HandBuiltChainRoutesThroughEverySwitch) {
  Topology t;
  const std::uint32_t s0 = t.add_switch("s0", kSwitch, 1);
  const std::uint32_t s1 = t.add_switch("s1", kSwitch, 1);
  const std::uint32_t s2 = t.add_switch("s2", kSwitch, 1);
  const std::uint32_t h0 = t.add_host("h0");
  const std::uint32_t h1 = t.add_host("h1");
  t.connect(h0, s0, kLink);
  t.connect(s0, s1, kLink);
  t.connect(s1, s2, kLink);
  t.connect(s2, h1, kLink);
  t.finalize();
  EXPECT_EQ(t.path(0, 1), (std::vector<std::uint32_t>{h0, s0, s1, s2, h1}));
  EXPECT_EQ(t.path(1, 0), (std::vector<std::uint32_t>{h1, s2, s1, s0, h0}));
  EXPECT_EQ(t.distance_from_switch(s0, h1), 3u);
}

TEST(Topology, AHostWithSeveralPortsTakesTheNearestThenTheFastestThenSpreadsByDestination) {
  // h0: port 0 to switch a and port 3 to switch b (both fast), port 1 to the
  // slow switch c, port 2 unconnected. Hosts 1-4 hang off all three
  // switches; host 5 only off c.
  LinkSpec fast = kLink, slow = kLink;
  fast.gbps = 100;
  slow.gbps = 25;
  Topology t;
  const std::uint32_t a = t.add_switch("a", kSwitch, 1);
  const std::uint32_t b = t.add_switch("b", kSwitch, 1);
  const std::uint32_t c = t.add_switch("c", kSwitch, 1);
  const std::uint32_t h0 = t.add_host("h0", 4, HostTiming{});
  t.connect_port(h0, 0, a, fast, fast);
  t.connect_port(h0, 1, c, slow, slow);
  t.connect_port(h0, 3, b, fast, fast);
  for (int i = 1; i <= 4; ++i) {
    const std::uint32_t h = t.add_host(fmt::format("h{}", i), 3, HostTiming{});
    t.connect_port(h, 0, a, fast, fast);
    t.connect_port(h, 1, b, fast, fast);
    t.connect_port(h, 2, c, slow, slow);
  }
  const std::uint32_t h5 = t.add_host("h5", 1, HostTiming{});
  t.connect_port(h5, 0, c, slow, slow);
  t.finalize();
  EXPECT_EQ(t.route(h0, 1), 3);  // a and b tie: odd destinations to the second
  EXPECT_EQ(t.route(h0, 2), 0);
  EXPECT_EQ(t.route(h0, 3), 3);
  EXPECT_EQ(t.route(h0, 4), 0);
  EXPECT_EQ(t.route(h0, 5), 1);  // only c is one hop away: nearest before fastest
  EXPECT_EQ(t.path(0, 5), (std::vector<std::uint32_t>{h0, c, h5}));
}

TEST(Topology, BuildersRejectImpossibleShapes) {
  EXPECT_EQ(Topology::star(0, kLink, kSwitch).status().code(), StatusCode::invalid_argument);
  EXPECT_EQ(Topology::star(65536, kLink, kSwitch).status().code(), StatusCode::invalid_argument);
  for (auto [hosts, per_leaf, spines] : {std::tuple{0u, 4u, 2u}, {8u, 0u, 2u}, {8u, 4u, 0u}}) {
    auto t = Topology::leaf_spine(hosts, per_leaf, spines, kLink, kLink, kSwitch);
    EXPECT_EQ(t.status().code(), StatusCode::invalid_argument) << hosts << per_leaf << spines;
  }
}

}  // namespace
}  // namespace inca::topology
