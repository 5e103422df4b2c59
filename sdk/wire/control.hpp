// Control-plane messages from the aggregation manager to a switch. The manager
// is the only writer of per-job switch state (DESIGN.md, principle 3); fabrics
// deliver these messages by function call (sim, live) or in control packets
// (real switches).
#pragma once

#include <cstdint>
#include <vector>

namespace inca::wire {

inline constexpr std::uint16_t kNoPort = 0xffff;

/// Installs one aggregation tree on one switch.
struct TreeInstall {
  std::uint32_t job = 0;
  std::uint32_t key_tag = 0;  ///< contributions must carry this tag
  std::uint16_t tree = 0;
  std::uint16_t slot_base = 0;             ///< first slot of this switch's pool given to the tree
  std::uint16_t slot_count = 0;            ///< slots given to the tree (the hosts' window)
  std::uint32_t slot_payload_bytes = 0;    ///< payload bytes per slot the tree may use
  std::uint16_t parent_port = kNoPort;     ///< kNoPort at the root
  std::uint16_t index_at_parent = 0;       ///< this switch's child index at its parent
  std::vector<std::uint16_t> child_ports;  ///< child i arrives on child_ports[i]
};

/// Removes a tree from a switch and frees its slots.
struct TreeRemove {
  std::uint32_t job = 0;
  std::uint16_t tree = 0;
};

}  // namespace inca::wire
