// How inca's aggregation addressing rides in RoCEv2 RDMA WRITEs with
// immediate (docs/verbs.md, "Mapping"): the destination queue pair names the
// job and the host, the rkey the tree, shadow set and slot, the immediate the
// chunk. Results come back the same way into the host's result ring, the
// immediate saying which entry. Shared by the switch and the verbs driver, so
// both sides agree by construction.
#pragma once

#include <cstdint>

#include "wire/header.hpp"

namespace inca::wire {

/// The rkey of a contribution: tree id in bits 16-31, the shadow set in bit
/// 15, the slot in bits 0-14 (the same 16 bits as the header's slot field).
constexpr std::uint32_t slot_rkey(std::uint16_t tree, bool shadow, std::uint16_t slot) {
  return (std::uint32_t{tree} << 16) | (shadow ? kShadowBit : 0u) | (slot & kMaxSlot);
}

/// What a contribution's rkey names.
struct SlotAddress {
  std::uint16_t tree = 0;
  bool shadow = false;
  std::uint16_t slot = 0;
};

constexpr SlotAddress slot_of_rkey(std::uint32_t rkey) {
  return {static_cast<std::uint16_t>(rkey >> 16), (rkey & kShadowBit) != 0,
          static_cast<std::uint16_t>(rkey & kMaxSlot)};
}

/// The rkey and immediate a contribution with header `h` is written with.
constexpr std::uint32_t contribution_rkey(const Header& h) {
  return slot_rkey(h.tree, h.shadow, h.slot);
}
constexpr std::uint32_t contribution_immediate(const Header& h) {
  return h.sequence;
}

/// A contribution's RETH virtual address: the slot's start (whole chunks only).
inline constexpr std::uint64_t kContributionVa = 0;

/// The byte offset in a host's result ring of the entry a result with
/// immediate `index` was written to.
constexpr std::uint64_t ring_offset(std::uint32_t index, std::uint32_t entries,
                                    std::uint32_t entry_bytes) {
  return std::uint64_t{index % entries} * entry_bytes;
}

/// Path MTUs RoCEv2 knows (IBA's 256..4096).
constexpr bool valid_roce_mtu(std::uint32_t mtu) {
  return mtu == 256 || mtu == 512 || mtu == 1024 || mtu == 2048 || mtu == 4096;
}

}  // namespace inca::wire
