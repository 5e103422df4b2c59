// The leaf-spine generator's scale-up domains (NVLink racks beside an
// InfiniBand leaf-spine): the elements it stamps, where hosts route (a
// domain's traffic on its domain switch, the rest on the leaf-spine), the
// mistakes it names, and the window a fabric file gives its hosts.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fabric/fabric_topology.hpp"
#include "inca/fabric_description.hpp"
#include "inca/world.hpp"
#include "test_support.hpp"

namespace inca {
namespace {

const char* const kScaleUp = test::kTwoPortHostsFabric;

FabricLoad parse(const std::string& text, const FabricOverrides& o = {}) {
  return FabricDescription::parse(text, "t.yaml", o);
}

TEST(FabricGenerators, ScaleUpDomainsJoinEachGroupOfHostsOnItsOwnPort) {
  const FabricLoad load = parse(kScaleUp);
  ASSERT_TRUE(load.ok()) << load.report();
  const FabricDescription& f = *load.description;
  ASSERT_EQ(f.switches.size(), 2u + 2 + 2);  // leaves, spines, domains
  EXPECT_EQ(f.switches[4].name, "domain0");
  EXPECT_EQ(f.switches[5].name, "domain1");
  EXPECT_EQ(f.switches[5].tier, 1u);
  ASSERT_EQ(f.links.size(), 8u + 2 * 2 + 8);  // host links, uplinks, domain links
  // Host links first, on the port that is not the domain's.
  EXPECT_EQ(f.links[5].a.node, "host5");
  EXPECT_EQ(f.links[5].a.port, "ib0");
  EXPECT_EQ(f.links[5].b.node, "leaf1");
  // Domain links last: host i's nvlink port to domain i / 4, at NVLink's rate.
  const LinkDescription& d = f.links[12 + 5];
  EXPECT_EQ(d.a.node, "host5");
  EXPECT_EQ(d.a.port, "nvlink");
  EXPECT_EQ(d.b.node, "domain1");
  EXPECT_EQ(d.gbps, 7200);
  EXPECT_NE(f.summary().find("window 256 slots"), std::string::npos) << f.summary();
}

std::vector<std::string> path_names(const topology::Topology& t, std::uint32_t a, std::uint32_t b) {
  std::vector<std::string> names;
  for (std::uint32_t n : t.path(a, b)) names.push_back(t.node(n).name);
  return names;
}

TEST(FabricGenerators, ADomainsTrafficTakesItsDomainSwitchAndTheRestTheLeafSpine) {
  const FabricLoad load = parse(kScaleUp);
  ASSERT_TRUE(load.ok()) << load.report();
  auto t = fabric_file::build_topology(*load.description);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  // Same domain (and same leaf: equally near, NVLink is faster).
  EXPECT_EQ(path_names(*t, 0, 3), (std::vector<std::string>{"host0", "domain0", "host3"}));
  EXPECT_EQ(t->route(t->host_node(0), 3), 1);  // the nvlink port
  // Another domain: only the leaf-spine reaches it.
  const auto across = path_names(*t, 0, 5);
  ASSERT_EQ(across.size(), 5u);
  EXPECT_EQ(across[1], "leaf0");
  EXPECT_EQ(across[2].rfind("spine", 0), 0u);
  EXPECT_EQ(across[3], "leaf1");
  EXPECT_EQ(t->route(t->host_node(0), 5), 0);  // the ib0 port
}

TEST(FabricGenerators, ScaleUpMistakesAreNamed) {
  std::string text = kScaleUp;
  text.replace(text.find("port: nvlink"), 12, "port: nvl0");
  const FabricLoad wrong_port = parse(text);
  EXPECT_FALSE(wrong_port.ok());
  EXPECT_NE(wrong_port.report().find("port 'nvl0' is not one of the host's other ports (ib0, "
                                     "nvlink)"),
            std::string::npos)
      << wrong_port.report();
  std::string missing = kScaleUp;
  missing.replace(missing.find("port: nvlink, "), 14, "");
  const FabricLoad no_port = parse(missing);
  EXPECT_FALSE(no_port.ok());
  EXPECT_NE(no_port.report().find("port"), std::string::npos) << no_port.report();
}

// The hosts' window binds the tree unless the run gives its own.
TEST(FabricGenerators, TheHostsWindowSetsTheTreesSlotsUnlessOverridden) {
  const FabricLoad load = parse(kScaleUp);
  ASSERT_TRUE(load.ok()) << load.report();
  auto world = World::create(*load.description, {});
  ASSERT_TRUE(world.ok()) << world.status().to_string();
  EXPECT_EQ((*world)->model_fabric().window, 256u);
  FabricOptions job;
  job.overrides.window = 32;
  auto narrowed = World::create(*load.description, job);
  ASSERT_TRUE(narrowed.ok()) << narrowed.status().to_string();
  EXPECT_EQ((*narrowed)->model_fabric().window, 32u);
  // Written out element by element, the window survives.
  const FabricLoad twin = parse(load.description->to_yaml());
  ASSERT_TRUE(twin.ok()) << twin.report();
  EXPECT_EQ(twin.description->hosts[7].window, 256u);
}

}  // namespace
}  // namespace inca
