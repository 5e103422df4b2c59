// What each rank of a verbs job publishes in the bootstrap exchange (over
// `inca launch`'s rendezvous or MPI): its RoCEv2 address, the RC queue pair
// it keeps for every other rank with the first PSN it sends there, the ring
// that rank writes into here, and the RC ring baseline's mailbox. A fixed,
// versioned byte layout (big-endian), decoded with every length checked.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "inca/status.hpp"
#include "verbs_rank_driver.hpp"

namespace inca::verbs {

struct PeerInfo {
  std::array<std::uint8_t, 16> gid{};  ///< the RoCEv2 GID (::ffff:a.b.c.d)
  std::uint32_t ipv4 = 0;              ///< host byte order
  std::uint16_t mtu = 1024;            ///< the port's active MTU
  std::vector<std::uint32_t> rc_qpn;   ///< by rank: this rank's queue pair for that rank
  std::vector<std::uint32_t> rc_psn;   ///< by rank: the first PSN it sends there
  std::vector<RemoteRing> rings;       ///< by rank: where that rank writes into this one
  RemoteRing mailbox;                  ///< the RC ring baseline's mailbox
  bool operator==(const PeerInfo&) const = default;
};

std::vector<std::byte> encode_peer_info(const PeerInfo& info);
/// invalid_argument naming what is wrong (truncated, version, counts that
/// differ from `ranks`, trailing bytes).
Result<PeerInfo> decode_peer_info(std::span<const std::byte> bytes, std::uint32_t ranks);

}  // namespace inca::verbs
