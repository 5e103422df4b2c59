// Which RDMA port and GID a rank uses, chosen from what discovery found
// (devices.hpp): RoCEv2 needs an Ethernet port that is up and a GID of type
// RoCEv2 whose address is IPv4 (::ffff:a.b.c.d, the NIC's address, which
// inca-switch sees as the source of its frames). The choice is apart from
// the discovery so that it is tested without a NIC.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inca/status.hpp"
#include "wire/control_codec.hpp"

namespace inca::verbs {

enum class GidType : std::uint8_t { ib, roce_v1, roce_v2 };

struct GidEntry {
  std::uint32_t index = 0;
  std::array<std::uint8_t, 16> gid{};
  GidType type = GidType::ib;
  std::string netdev;  ///< the Ethernet interface behind a RoCE GID
  wire::MacAddress mac{};
};

/// One port of one RDMA device.
struct VerbsPort {
  std::string device;
  std::uint8_t port = 1;
  bool active = false;
  bool ethernet = false;         ///< link layer Ethernet (RoCE) rather than InfiniBand
  std::uint32_t active_mtu = 0;  ///< bytes (256..4096)
  double gbps = 0;               ///< active speed x width, 0 when unknown
  std::vector<GidEntry> gids;
};

/// INCA_VERBS_DEVICE: "device", "device:port" or "device:port:gid_index".
struct PortSelection {
  std::string device;
  std::optional<std::uint8_t> port;
  std::optional<std::uint32_t> gid_index;
};
/// invalid_argument when `text` is not one of the forms above.
Result<PortSelection> parse_port_selection(std::string_view text);

/// The address a rank's queue pairs use.
struct RoceAddress {
  std::string device;
  std::uint8_t port = 1;
  std::uint32_t gid_index = 0;
  std::array<std::uint8_t, 16> gid{};
  std::uint32_t ipv4 = 0;  ///< host byte order
  std::string netdev;
  wire::MacAddress mac{};
  std::uint32_t mtu = 1024;
  double gbps = 0;
};

/// The IPv4 address in a v4-mapped GID (::ffff:a.b.c.d), if it is one.
std::optional<std::uint32_t> gid_ipv4(const std::array<std::uint8_t, 16>& gid);
/// The v4-mapped GID of an IPv4 address (how a RoCEv2 peer addresses the switch).
std::array<std::uint8_t, 16> ipv4_gid(std::uint32_t ipv4);

/// The first active Ethernet port with a RoCEv2 IPv4 GID, restricted to
/// `selection` and, when `ipv4` is not 0, to the GID of that address.
/// not_supported, listing what was found, when none qualifies.
Result<RoceAddress> choose_roce_v2(const std::vector<VerbsPort>& ports,
                                   const PortSelection& selection, std::uint32_t ipv4);

/// One address per active Ethernet port (within `selection`) that has a
/// RoCEv2 IPv4 GID, in discovery order: the NIC ports a launcher spreads
/// its ranks over.
std::vector<RoceAddress> roce_v2_ports(const std::vector<VerbsPort>& ports,
                                       const PortSelection& selection);

}  // namespace inca::verbs
