// A test fixture: one inca-switch whose af_packet ports are veths to N hosts
// in their own network namespaces, a control connection to it, and a tree
// over every host allocated by the SDK's AggregationManager on the matching
// star topology and installed through the control channel. Tests skip when
// namespaces or the inca-switch binary are not available.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "manager/aggregation_manager.hpp"
#include "manager/switch_control_client.hpp"
#include "support/inca_switch_process.hpp"
#include "support/netns.hpp"
#include "support/udp_hosts.hpp"
#include "topology/topology.hpp"

namespace inca::test {

class StarSwitchTest : public ::testing::Test {
 public:
  static constexpr std::uint32_t kJob = 41;
  static constexpr std::uint32_t kKey = 0x600d;
  static constexpr std::uint32_t kSlots = 8;
  static constexpr std::uint32_t kSlotBytes = 256;
  static constexpr const char* kSwitchIp = "10.77.0.254";

 protected:
  /// Brings up `hosts` namespaces, the switch (with `extra_args`) and the
  /// tree. Callers return when IsSkipped() or HasFatalFailure().
  void start(std::size_t hosts, const std::string& tag, std::vector<std::string> extra_args = {}) {
    if (const std::string why = netns_unavailable(); !why.empty()) GTEST_SKIP() << why;
    const std::string binary = sibling_binary("inca-switch");
    if (binary.empty()) GTEST_SKIP() << "inca-switch was not built (libdpdk not found)";
    veths_ = std::make_unique<VethHosts>(tag, hosts);
    std::string error;
    ASSERT_TRUE(veths_->create(error)) << error;
    std::vector<std::string> vdevs;
    for (std::size_t i = 0; i < hosts; ++i)
      vdevs.push_back(fmt::format("net_af_packet{},iface={}", i, veths_->switch_iface(i)));
    std::vector<std::string> args = {"--ip", kSwitchIp,      "--slots",
                                     "64",   "--slot-bytes", std::to_string(kSlotBytes)};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    ASSERT_TRUE(switch_.start(binary, "star" + tag, vdevs, args, dir_.path(), error)) << error;
    auto client = switch_.connect();
    ASSERT_TRUE(client.ok()) << client.status().to_string();
    client_.emplace(std::move(*client));
    auto info = client_->ping();
    ASSERT_TRUE(info.ok()) << info.status().to_string();
    info_ = *info;
    ASSERT_EQ(info_.ports.size(), hosts) << switch_.log();

    // The manager plans on the star topology; switch port i is veth i.
    topology::SwitchSpec spec;
    spec.slots = 64;
    spec.slot_payload_bytes = kSlotBytes;
    auto topo = topology::Topology::star(static_cast<std::uint32_t>(hosts), {}, spec);
    ASSERT_TRUE(topo.ok()) << topo.status().to_string();
    topology_ = std::make_unique<topology::Topology>(std::move(*topo));
    manager_ = std::make_unique<manager::AggregationManager>(*topology_);
    if (!install_tree_) return;
    manager::TreeRequest request;
    request.job = kJob;
    request.key_tag = kKey;
    for (std::uint32_t h = 0; h < hosts; ++h) request.hosts.push_back(h);
    request.slots = kSlots;
    request.max_payload_bytes = kSlotBytes;
    auto plan = manager_->allocate(request);
    ASSERT_TRUE(plan.ok()) << plan.status().to_string();
    plan_ = *plan;
    ASSERT_EQ(plan_.installs.size(), 1u);
    const Status installed = client_->install(plan_.installs[0].second);
    ASSERT_TRUE(installed.ok()) << installed.to_string();

    std::vector<std::string> namespaces;
    for (std::size_t i = 0; i < hosts; ++i) namespaces.push_back(veths_->ns(i));
    hosts_ = std::make_unique<UdpHosts>(namespaces, std::vector<std::string>(hosts, kSwitchIp),
                                        info_.udp_port, kJob, kKey);
    ASSERT_EQ(hosts_->error(), "");
  }

  AllreduceSpec spec(std::size_t count, Dtype dtype, std::uint8_t flags = 0) const {
    AllreduceSpec s;
    s.tree = plan_.tree;
    s.window = plan_.slots;
    s.slot_payload_bytes = plan_.slot_payload_bytes;
    for (const auto& m : plan_.members) s.child_index.push_back(m.child_index);
    s.count = count;
    s.dtype = dtype;
    s.flags = flags;
    return s;
  }

  std::uint64_t counter(const std::string& name) {
    auto counters = client_->counters();
    EXPECT_TRUE(counters.ok()) << counters.status().to_string();
    if (!counters.ok()) return 0;
    auto v = manager::find_counter(*counters, name);
    EXPECT_TRUE(v.has_value()) << "no counter " << name;
    return v.value_or(0);
  }

  /// Set to false before start() for a switch without the fixture's tree.
  bool install_tree_ = true;
  TempDir dir_;
  std::unique_ptr<VethHosts> veths_;
  SwitchProcess switch_;
  std::optional<manager::SwitchControlClient> client_;
  wire::SwitchInfo info_;
  std::unique_ptr<topology::Topology> topology_;
  std::unique_ptr<manager::AggregationManager> manager_;
  manager::TreePlan plan_;
  std::unique_ptr<UdpHosts> hosts_;
};

}  // namespace inca::test
