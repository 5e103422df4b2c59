// Three inca-switch processes as a leaf-spine fabric: two leaves with two
// hosts each (af_packet on veths to network namespaces) joined to one spine
// by memif, started by udp::SwitchFabric (as `inca launch` does). The SDK's
// AggregationManager plans the tree on the matching leaf-spine topology; the
// fabric maps its ports onto the switches' DPDK ports, installs it and the
// leaves' parent addresses over the control channel, and the test checks
// exact results of a two-level aggregation.
#include <gtest/gtest.h>

#include "support/inca_switch_process.hpp"
#include "support/netns.hpp"
#include "support/udp_hosts.hpp"
#include "topology/topology.hpp"
#include "udp/bootstrap.hpp"
#include "udp/star_job.hpp"
#include "udp/switch_fabric.hpp"

namespace inca::test {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kJob = 52;
constexpr std::uint32_t kKey = 0x1eaf;
constexpr std::uint32_t kSlotBytes = 256;

TEST(InncaSwitchLeafSpine, TwoLeavesOneSpineOverMemifAggregateExactly) {
  if (const std::string why = netns_unavailable(); !why.empty()) GTEST_SKIP() << why;
  const std::string binary = sibling_binary("inca-switch");
  if (binary.empty()) GTEST_SKIP() << "inca-switch was not built (libdpdk not found)";
  TempDir dir;
  VethHosts hosts("l", 4, "10.78.0");
  std::string error;
  ASSERT_TRUE(hosts.create(error)) << error;

  // Leaf ports 0,1 = hosts, 2 = uplink; spine port l = leaf l.
  topology::SwitchSpec spec;
  spec.slots = 64;
  spec.slot_payload_bytes = kSlotBytes;
  auto topo = topology::Topology::leaf_spine(4, 2, 1, {}, {}, spec);
  ASSERT_TRUE(topo.ok()) << topo.status().to_string();
  udp::SwitchFabric fabric(*topo, hosts, "10.78.0", dir.path());
  ASSERT_TRUE(
      fabric.start(binary, {"--slots", "64", "--slot-bytes", std::to_string(kSlotBytes)}, error))
      << error;
  auto plan = fabric.install_tree(udp::tree_request(
      {.ranks = 4, .job = kJob, .key_tag = kKey, .slots = 8, .slot_bytes = kSlotBytes}));
  ASSERT_TRUE(plan.ok()) << plan.status().to_string() << "\n" << fabric.logs();
  ASSERT_EQ(plan->installs.size(), 3u);

  std::vector<std::string> namespaces, leaf_ips;
  std::uint16_t udp_port = 0;
  for (std::uint32_t h = 0; h < 4; ++h) {
    namespaces.push_back(hosts.ns(h));
    auto leaf = udp::parse_ipv4_port(fabric.leaf_address(h));
    ASSERT_TRUE(leaf.ok());
    char ip[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &leaf->sin_addr, ip, sizeof(ip));
    leaf_ips.push_back(ip);
    udp_port = ntohs(leaf->sin_port);
  }
  EXPECT_NE(leaf_ips[0], leaf_ips[2]);
  UdpHosts udp(namespaces, leaf_ips, udp_port, kJob, kKey);
  ASSERT_EQ(udp.error(), "");
  AllreduceSpec op;
  op.tree = plan->tree;
  op.window = plan->slots;
  op.slot_payload_bytes = plan->slot_payload_bytes;
  for (const auto& m : plan->members) op.child_index.push_back(m.child_index);
  op.count = 1000;  // 16 chunks through 8 slots
  op.dtype = Dtype::i32;
  std::vector<std::vector<std::int32_t>> send(4, std::vector<std::int32_t>(op.count)),
      recv(4, std::vector<std::int32_t>(op.count));
  std::vector<HostBuffers> buffers;
  for (std::size_t h = 0; h < 4; ++h) {
    for (std::size_t e = 0; e < op.count; ++e)
      send[h][e] = static_cast<std::int32_t>((h + 1) * 1000003 - e * 13);
    buffers.push_back({send[h].data(), recv[h].data()});
  }
  const Status s = udp.allreduce(op, buffers, 40s);
  ASSERT_TRUE(s.ok()) << s.to_string() << "\n" << fabric.logs();
  for (std::size_t e = 0; e < op.count; ++e) {
    const std::int32_t want = send[0][e] + send[1][e] + send[2][e] + send[3][e];
    for (std::size_t h = 0; h < 4; ++h) ASSERT_EQ(recv[h][e], want) << "host " << h << " el " << e;
  }
  // Two levels really aggregated: leaves sent partials, the spine completed
  // every chunk from two children. A leaf's uplink is its DPDK port 2.
  EXPECT_GE(fabric.counter("spine0", "engine.results"), 16u);
  EXPECT_GE(fabric.counter("spine0", "engine.contributions"), 32u);
  EXPECT_GE(fabric.counter("leaf0", "engine.partials_sent"), 16u);
  EXPECT_GE(fabric.counter("leaf1", "engine.partials_sent"), 16u);
  EXPECT_EQ(fabric.counter("leaf0", "port2.drop_no_neighbor"), 0u);
  EXPECT_GE(fabric.counter("leaf0", "port2.link_up"), 1u);
}

}  // namespace
}  // namespace inca::test
