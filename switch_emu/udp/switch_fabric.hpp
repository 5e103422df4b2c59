// The inca-switch processes of a topology on one machine: one process per
// switch node with its ports in topology order, af_packet on host h's veth
// for a host port (or a memif server when the hosts are DPDK processes of
// the memif fabric) and memif between switches (the higher tier serves the
// socket). A job's tree is planned by the AggregationManager on the same
// topology and installed over the switches' control channels, with each
// child switch told its parent's address. `inca launch` builds its fabric
// with it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "inca/status.hpp"
#include "manager/aggregation_manager.hpp"
#include "manager/switch_control_client.hpp"
#include "topology/topology.hpp"
#include "udp/netns.hpp"
#include "udp/switch_process.hpp"

namespace inca::udp {

class SwitchFabric {
 public:
  /// `hosts`: host h of `topology` sits behind veth h; `subnet` is theirs
  /// ("10.78.0"), and switch i takes address <subnet>.(254 - i).
  SwitchFabric(const topology::Topology& topology, const VethHosts& hosts, std::string subnet,
               std::string log_dir);
  /// Hosts that are memif clients: host h's switch port serves host_socket(h).
  SwitchFabric(const topology::Topology& topology, std::string subnet, std::string log_dir);
  ~SwitchFabric();
  SwitchFabric(const SwitchFabric&) = delete;
  SwitchFabric& operator=(const SwitchFabric&) = delete;

  /// Makes every switch started after this write a pcapng capture of its
  /// ports to `dir`/<switch name>.pcapng (complete once it has stopped).
  void capture_to(std::string dir) { capture_dir_ = std::move(dir); }
  /// Starts every switch (`args` go to each, after --ip) and connects to its
  /// control channel; false with `error` set on the first failure.
  bool start(const std::string& binary, const std::vector<std::string>& args, std::string& error);
  /// Plans the tree, installs it on every switch it uses, sets each child
  /// switch's parent address and waits (up to 20 s) for those uplinks.
  Result<manager::TreePlan> install_tree(const manager::TreeRequest& request);
  /// "ip:port" of host h's leaf switch, where its contributions go.
  std::string leaf_address(std::uint32_t host) const;
  /// The memif socket host h connects to (memif hosts only).
  std::string host_socket(std::uint32_t host) const;
  /// A counter of the switch named `switch_name` ("leaf0"), 0 when unknown.
  std::uint64_t counter(const std::string& switch_name, const std::string& name);
  /// Every switch's log (its counters once it stopped).
  std::string logs();
  /// Stops every switch (SIGTERM, then SIGKILL).
  void stop();

 private:
  struct Switch;
  Switch& switch_of(std::uint32_t node);
  std::uint16_t device_port(const Switch& sw, std::uint16_t topology_port) const;

  const topology::Topology& topology_;
  const VethHosts* hosts_;  // null: memif hosts
  std::string subnet_;
  std::string log_dir_;
  std::string capture_dir_;                                    // "": no capture
  std::map<std::uint32_t, std::unique_ptr<Switch>> switches_;  // by topology node
};

}  // namespace inca::udp
