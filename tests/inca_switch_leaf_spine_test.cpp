// Three inca-switch processes as a leaf-spine fabric: two leaves with two
// hosts each (af_packet on veths to network namespaces) joined to one spine
// by memif. The SDK's AggregationManager plans the tree on the matching
// leaf-spine topology; the test maps its ports onto the switches' DPDK ports,
// installs it and the leaves' parent addresses over the control channel, and
// checks exact results of a two-level aggregation.
#include <gtest/gtest.h>

#include <map>

#include "manager/aggregation_manager.hpp"
#include "support/inca_switch_process.hpp"
#include "support/netns.hpp"
#include "support/udp_hosts.hpp"
#include "topology/topology.hpp"

namespace inca::test {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kJob = 52;
constexpr std::uint32_t kKey = 0x1eaf;
constexpr std::uint32_t kSlotBytes = 256;

// One running switch, its control connection and its ports by DPDK name.
struct Switch {
  SwitchProcess process;
  std::optional<manager::SwitchControlClient> control;
  wire::SwitchInfo info;
  std::vector<std::string> topology_ports;  // topology port i -> DPDK device name

  std::uint16_t port(std::uint16_t topology_port) const {
    const std::string& name = topology_ports.at(topology_port);
    for (std::uint16_t p = 0; p < info.ports.size(); ++p)
      if (info.ports[p].name == name) return p;
    ADD_FAILURE() << info.name << " has no port " << name;
    return wire::kNoPort;
  }
  // The manager's install, with topology ports replaced by this switch's.
  wire::TreeInstall on_ports(wire::TreeInstall t) const {
    for (auto& p : t.child_ports) p = port(p);
    if (t.parent_port != wire::kNoPort) t.parent_port = port(t.parent_port);
    return t;
  }
  std::uint64_t counter(const std::string& name) {
    auto counters = control->counters();
    return counters.ok() ? manager::find_counter(*counters, name).value_or(0) : 0;
  }
};

TEST(InncaSwitchLeafSpine, TwoLeavesOneSpineOverMemifAggregateExactly) {
  if (const std::string why = netns_unavailable(); !why.empty()) GTEST_SKIP() << why;
  const std::string binary = sibling_binary("inca-switch");
  if (binary.empty()) GTEST_SKIP() << "inca-switch was not built (libdpdk not found)";
  TempDir dir;
  VethHosts hosts("l", 4, "10.78.0");
  std::string error;
  ASSERT_TRUE(hosts.create(error)) << error;

  const std::string args_slots[] = {"--slots", "64", "--slot-bytes", std::to_string(kSlotBytes)};
  auto memif = [&](int i, const char* role, int leaf) {
    return fmt::format("net_memif{},role={},socket={}/leaf{}.sock,socket-abstract=no", i, role,
                       dir.path(), leaf);
  };
  std::map<std::string, Switch> switches;
  // The spine serves both memif sockets, so it starts first.
  Switch& spine = switches["spine0"];
  spine.topology_ports = {"net_memif0", "net_memif1"};
  ASSERT_TRUE(spine.process.start(
      binary, "spine0", {memif(0, "server", 0), memif(1, "server", 1)},
      {"--ip", "10.78.0.253", args_slots[0], args_slots[1], args_slots[2], args_slots[3]},
      dir.path(), error))
      << error;
  for (int leaf = 0; leaf < 2; ++leaf) {
    const std::string name = fmt::format("leaf{}", leaf);
    Switch& sw = switches[name];
    sw.topology_ports = {"net_af_packet0", "net_af_packet1", "net_memif0"};
    const std::vector<std::string> vdevs = {
        fmt::format("net_af_packet0,iface={}", hosts.switch_iface(2 * leaf)),
        fmt::format("net_af_packet1,iface={}", hosts.switch_iface(2 * leaf + 1)),
        memif(0, "client", leaf)};
    ASSERT_TRUE(sw.process.start(binary, name, vdevs,
                                 {"--ip", fmt::format("10.78.0.{}", 251 + leaf), args_slots[0],
                                  args_slots[1], args_slots[2], args_slots[3]},
                                 dir.path(), error))
        << error;
  }
  for (auto& [name, sw] : switches) {
    auto client = sw.process.connect();
    ASSERT_TRUE(client.ok()) << client.status().to_string();
    sw.control.emplace(std::move(*client));
    auto info = sw.control->ping();
    ASSERT_TRUE(info.ok()) << info.status().to_string();
    sw.info = *info;
  }

  // The manager plans on the same shape: leaf ports 0,1 = hosts, 2 = uplink;
  // spine port l = leaf l.
  topology::SwitchSpec spec;
  spec.slots = 64;
  spec.slot_payload_bytes = kSlotBytes;
  auto topo = topology::Topology::leaf_spine(4, 2, 1, {}, {}, spec);
  ASSERT_TRUE(topo.ok()) << topo.status().to_string();
  manager::AggregationManager manager(*topo);
  manager::TreeRequest request;
  request.job = kJob;
  request.key_tag = kKey;
  request.hosts = {0, 1, 2, 3};
  request.slots = 8;
  request.max_payload_bytes = kSlotBytes;
  auto plan = manager.allocate(request);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  ASSERT_EQ(plan->installs.size(), 3u);
  for (const auto& [node, install] : plan->installs) {
    Switch& sw = switches.at(topo->node(node).name);
    const Status s = sw.control->install(sw.on_ports(install));
    ASSERT_TRUE(s.ok()) << topo->node(node).name << ": " << s.to_string();
  }
  // Each leaf sends its partials to the spine's port facing it.
  for (int leaf = 0; leaf < 2; ++leaf) {
    Switch& sw = switches.at(fmt::format("leaf{}", leaf));
    const wire::SwitchPortInfo& facing = spine.info.ports.at(spine.port(leaf));
    const Status s =
        sw.control->set_neighbor({sw.port(2), facing.mac, spine.info.ipv4, spine.info.udp_port});
    ASSERT_TRUE(s.ok()) << s.to_string();
  }
  // memif clients connect in the background; wait for both uplinks.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  for (int leaf = 0; leaf < 2; ++leaf) {
    Switch& sw = switches.at(fmt::format("leaf{}", leaf));
    const std::string up = fmt::format("port{}.link_up", sw.port(2));
    while (sw.counter(up) != 1 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(50ms);
    ASSERT_EQ(sw.counter(up), 1u) << sw.process.log();
  }

  std::vector<std::string> namespaces, leaf_ips;
  for (std::size_t h = 0; h < 4; ++h) {
    namespaces.push_back(hosts.ns(h));
    leaf_ips.push_back(h < 2 ? "10.78.0.251" : "10.78.0.252");
  }
  UdpHosts udp(namespaces, leaf_ips, spine.info.udp_port, kJob, kKey);
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
  ASSERT_TRUE(s.ok()) << s.to_string() << "\nspine:\n"
                      << spine.process.log() << "\nleaf0:\n"
                      << switches.at("leaf0").process.log();
  for (std::size_t e = 0; e < op.count; ++e) {
    const std::int32_t want = send[0][e] + send[1][e] + send[2][e] + send[3][e];
    for (std::size_t h = 0; h < 4; ++h) ASSERT_EQ(recv[h][e], want) << "host " << h << " el " << e;
  }
  // Two levels really aggregated: leaves sent partials, the spine completed
  // every chunk from two children.
  EXPECT_GE(spine.counter("engine.results"), 16u);
  EXPECT_GE(spine.counter("engine.contributions"), 32u);
  EXPECT_GE(switches.at("leaf0").counter("engine.partials_sent"), 16u);
  EXPECT_GE(switches.at("leaf1").counter("engine.partials_sent"), 16u);
  EXPECT_EQ(switches.at("leaf0").counter(
                fmt::format("port{}.drop_no_neighbor", switches.at("leaf0").port(2))),
            0u);
}

}  // namespace
}  // namespace inca::test
