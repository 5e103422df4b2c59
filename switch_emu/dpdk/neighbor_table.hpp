// Where inca-switch sends the inca packets it emits (docs/fabrics.md,
// "inca-switch addressing"). A child's address is learned from the
// contributions the engine accepted from it, per (job, tree, port), so two
// jobs behind one port each get their own results. A neighbour the switch
// cannot learn from (its parent switch) is configured by the manager per
// port over the control channel.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "dpdk/frame.hpp"
#include "inca/status.hpp"

namespace inca::dpdk_switch {

class NeighborTable {
 public:
  explicit NeighborTable(std::uint16_t ports) : configured_(ports) {}

  /// Sets the configured neighbour of a port (invalid_argument for a port
  /// the switch does not have).
  Status configure(const wire::NeighborAddress& neighbor);
  /// Records the source of a contribution the engine accepted.
  void learn(std::uint32_t job, std::uint16_t tree, std::uint16_t port, const UdpEndpoint& from);
  /// The learned address for (job, tree, port), else the port's configured
  /// neighbour, else nullptr.
  const UdpEndpoint* find(std::uint32_t job, std::uint16_t tree, std::uint16_t port) const;
  /// Forgets everything learned for a tree (it was removed).
  void forget_tree(std::uint32_t job, std::uint16_t tree);
  std::size_t learned() const { return learned_.size(); }

 private:
  static std::uint64_t key(std::uint32_t job, std::uint16_t tree, std::uint16_t port) {
    return (std::uint64_t{job} << 32) | (std::uint64_t{tree} << 16) | port;
  }
  std::vector<std::optional<UdpEndpoint>> configured_;
  std::unordered_map<std::uint64_t, UdpEndpoint> learned_;
};

}  // namespace inca::dpdk_switch
