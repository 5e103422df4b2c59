#include "udp/switch_fabric.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

namespace inca::udp {

struct SwitchFabric::Switch {
  std::string name;
  std::string ip;
  SwitchProcess process;
  std::optional<manager::SwitchControlClient> control;
  wire::SwitchInfo info;
  std::vector<std::string> devices;  // DPDK device name of each topology port
};

SwitchFabric::SwitchFabric(const topology::Topology& topology, const VethHosts& hosts,
                           std::string subnet, std::string log_dir)
    : topology_(topology),
      hosts_(&hosts),
      subnet_(std::move(subnet)),
      log_dir_(std::move(log_dir)) {}

SwitchFabric::SwitchFabric(const topology::Topology& topology, std::string subnet,
                           std::string log_dir)
    : topology_(topology),
      hosts_(nullptr),
      subnet_(std::move(subnet)),
      log_dir_(std::move(log_dir)) {}

SwitchFabric::~SwitchFabric() {
  stop();
}

bool SwitchFabric::start(const std::string& binary, const std::vector<std::string>& args,
                         std::string& error) {
  std::vector<std::uint32_t> nodes = topology_.switch_nodes();
  // A memif server must exist before its client: higher tiers serve, so
  // they start first.
  std::stable_sort(nodes.begin(), nodes.end(), [&](std::uint32_t a, std::uint32_t b) {
    return topology_.node(a).tier > topology_.node(b).tier;
  });
  const std::vector<std::uint32_t> by_id = topology_.switch_nodes();
  for (std::uint32_t node : nodes) {
    const topology::Node& n = topology_.node(node);
    auto sw = std::make_unique<Switch>();
    sw->name = n.name;
    const auto index = std::find(by_id.begin(), by_id.end(), node) - by_id.begin();
    sw->ip = fmt::format("{}.{}", subnet_, 254 - index);
    std::vector<std::string> vdevs;
    for (std::uint16_t p = 0; p < n.ports.size(); ++p) {
      const topology::Node& peer = topology_.node(n.ports[p].peer_node);
      if (peer.kind == topology::NodeKind::host && hosts_ != nullptr) {
        sw->devices.push_back(fmt::format("net_af_packet{}", p));
        vdevs.push_back(
            fmt::format("{},iface={}", sw->devices.back(), hosts_->switch_iface(peer.host_index)));
        continue;
      }
      if (peer.kind == topology::NodeKind::host) {
        sw->devices.push_back(fmt::format("net_memif{}", p));
        vdevs.push_back(fmt::format("{},role=server,socket={},socket-abstract=no",
                                    sw->devices.back(), host_socket(peer.host_index)));
        continue;
      }
      const bool serve = n.tier > peer.tier;
      const std::string& lower = serve ? peer.name : n.name;
      const std::string& upper = serve ? n.name : peer.name;
      sw->devices.push_back(fmt::format("net_memif{}", p));
      vdevs.push_back(fmt::format("{},role={},socket={}/{}-{}.sock,socket-abstract=no",
                                  sw->devices.back(), serve ? "server" : "client", log_dir_, lower,
                                  upper));
    }
    std::vector<std::string> switch_args = {"--ip", sw->ip};
    switch_args.insert(switch_args.end(), args.begin(), args.end());
    if (!capture_dir_.empty()) {
      switch_args.push_back("--pcap");
      switch_args.push_back(fmt::format("{}/{}.pcapng", capture_dir_, sw->name));
    }
    if (!sw->process.start(binary, sw->name, vdevs, switch_args, log_dir_, error)) return false;
    auto client = sw->process.connect();
    auto info = client.ok() ? client->ping() : Result<wire::SwitchInfo>(client.status());
    if (!info.ok()) {
      error = fmt::format("{}: control channel: {}", sw->name, info.status().to_string());
      return false;
    }
    sw->control.emplace(std::move(*client));
    sw->info = *info;
    switches_[node] = std::move(sw);
  }
  return true;
}

SwitchFabric::Switch& SwitchFabric::switch_of(std::uint32_t node) {
  return *switches_.at(node);
}

std::uint16_t SwitchFabric::device_port(const Switch& sw, std::uint16_t topology_port) const {
  const std::string& device = sw.devices.at(topology_port);
  for (std::uint16_t p = 0; p < sw.info.ports.size(); ++p)
    if (sw.info.ports[p].name == device) return p;
  return wire::kNoPort;
}

Result<manager::TreePlan> SwitchFabric::install_tree(const manager::TreeRequest& request) {
  manager::AggregationManager manager(topology_);
  auto plan = manager.allocate(request);
  if (!plan.ok()) return plan.status();
  std::vector<std::pair<Switch*, std::uint16_t>> uplinks;  // child switch, its device port
  for (const auto& [node, planned] : plan->installs) {
    Switch& sw = switch_of(node);
    // The manager speaks topology ports; each switch numbers its devices.
    wire::TreeInstall install = planned;
    for (std::uint16_t& p : install.child_ports) p = device_port(sw, p);
    if (install.parent_port != wire::kNoPort) {
      const topology::Port& up = topology_.node(node).ports.at(planned.parent_port);
      Switch& parent = switch_of(up.peer_node);
      install.parent_port = device_port(sw, planned.parent_port);
      const wire::SwitchPortInfo& facing = parent.info.ports.at(device_port(parent, up.peer_port));
      INCA_RETURN_IF_ERROR(sw.control->set_neighbor(
          {install.parent_port, facing.mac, parent.info.ipv4, parent.info.udp_port}));
      uplinks.emplace_back(&sw, install.parent_port);
    }
    const Status s = sw.control->install(install);
    if (!s.ok()) return make_error(s.code(), fmt::format("{}: {}", sw.name, s.message()));
  }
  // memif clients connect in the background.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (auto [sw, port] : uplinks) {
    const std::string up = fmt::format("port{}.link_up", port);
    while (true) {
      auto counters = sw->control->counters();
      if (counters.ok() && manager::find_counter(*counters, up).value_or(0) == 1) break;
      if (std::chrono::steady_clock::now() >= deadline)
        return make_error(StatusCode::timeout,
                          fmt::format("{}: uplink {} stayed down", sw->name, port));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return plan;
}

std::string SwitchFabric::leaf_address(std::uint32_t host) const {
  const topology::Port& up = topology_.node(topology_.host_node(host)).ports.at(0);
  const Switch& leaf = *switches_.at(up.peer_node);
  return fmt::format("{}:{}", leaf.ip, leaf.info.udp_port);
}

std::string SwitchFabric::host_socket(std::uint32_t host) const {
  return fmt::format("{}/host{}.sock", log_dir_, host);
}

std::uint64_t SwitchFabric::counter(const std::string& switch_name, const std::string& name) {
  for (auto& [node, sw] : switches_) {
    if (sw->name != switch_name) continue;
    auto counters = sw->control->counters();
    return counters.ok() ? manager::find_counter(*counters, name).value_or(0) : 0;
  }
  return 0;
}

std::string SwitchFabric::logs() {
  std::string out;
  for (auto& [node, sw] : switches_) out += sw->process.log();
  return out;
}

void SwitchFabric::stop() {
  for (auto& [node, sw] : switches_) sw->process.stop();
}

}  // namespace inca::udp
