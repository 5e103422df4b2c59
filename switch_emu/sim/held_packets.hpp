// Packets that wait off their link's FIFO for an event of their own (the
// fault model's reordered and duplicated packets, acknowledgements booked
// along their whole path): a slab whose places are reused, so an event
// carries a 32-bit place instead of a packet.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "wire/packet.hpp"

namespace inca::sim {

class HeldPackets {
 public:
  /// Keeps `packet`; the place to release it from.
  std::uint32_t hold(wire::Packet&& packet) {
    if (free_.empty()) {
      held_.push_back(std::move(packet));
      return static_cast<std::uint32_t>(held_.size() - 1);
    }
    const std::uint32_t id = free_.back();
    free_.pop_back();
    held_[id] = std::move(packet);
    return id;
  }
  /// Gives back the packet held at `id` and frees the place.
  wire::Packet release(std::uint32_t id) {
    wire::Packet p = std::move(held_[id]);
    held_[id] = {};
    free_.push_back(id);
    return p;
  }

 private:
  std::vector<wire::Packet> held_;
  std::vector<std::uint32_t> free_;
};

}  // namespace inca::sim
