#include "dpdk/neighbor_table.hpp"

#include <fmt/format.h>

namespace inca::dpdk_switch {

Status NeighborTable::configure(const wire::NeighborAddress& n) {
  if (n.port >= configured_.size())
    return make_error(StatusCode::invalid_argument,
                      fmt::format("set_neighbor: port {} does not exist (this switch has {})",
                                  n.port, configured_.size()));
  configured_[n.port] = UdpEndpoint{n.mac, n.ipv4, n.udp_port};
  return {};
}

void NeighborTable::learn(std::uint32_t job, std::uint16_t tree, std::uint16_t port,
                          const UdpEndpoint& from) {
  // Almost always already known: look up before writing.
  auto [it, inserted] = learned_.try_emplace(key(job, tree, port), from);
  if (!inserted && !(it->second == from)) it->second = from;
}

const UdpEndpoint* NeighborTable::find(std::uint32_t job, std::uint16_t tree,
                                       std::uint16_t port) const {
  if (auto it = learned_.find(key(job, tree, port)); it != learned_.end()) return &it->second;
  if (port < configured_.size() && configured_[port]) return &*configured_[port];
  return nullptr;
}

void NeighborTable::forget_tree(std::uint32_t job, std::uint16_t tree) {
  const std::uint64_t prefix = key(job, tree, 0);
  std::erase_if(learned_, [&](const auto& e) { return (e.first & ~0xffffull) == prefix; });
}

}  // namespace inca::dpdk_switch
