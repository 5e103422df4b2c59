// The control channel between the aggregation manager and a real switch
// (inca-switch): length-prefixed binary frames over TCP. The manager sends
// requests (install/remove a tree, set a neighbour's address, read counters,
// ping) and the switch answers each with a reply carrying a Status. The byte
// layout is docs/protocol.md, section "Control channel". Decoding validates
// every field and never reads outside the frame it is given, so a switch can
// be fed anything a network peer sends.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "inca/status.hpp"
#include "wire/control.hpp"
#include "wire/header.hpp"

namespace inca::wire {

inline constexpr std::uint8_t kControlVersion = 1;
/// The big-endian u32 in front of every frame: the bytes that follow it.
inline constexpr std::size_t kControlLengthBytes = 4;
/// Version, kind and request id: the smallest frame body.
inline constexpr std::size_t kControlMinBodyBytes = 6;
/// The largest frame body either side accepts (a reply with every counter fits).
inline constexpr std::size_t kControlMaxBodyBytes = 256 * 1024;
/// Limits that keep one frame bounded; decode rejects anything larger.
inline constexpr std::size_t kControlMaxStringBytes = 1024;
inline constexpr std::size_t kControlMaxChildren = 4096;
inline constexpr std::size_t kControlMaxPorts = 1024;
inline constexpr std::size_t kControlMaxCounters = 8192;
/// Replies carry request kind | kControlReplyBit.
inline constexpr std::uint8_t kControlReplyBit = 0x80;

/// What a request asks; the numeric values are wire codes.
enum class ControlKind : std::uint8_t {
  ping = 1,           ///< liveness + the switch's identity and ports
  install_tree = 2,   ///< wire::TreeInstall
  remove_tree = 3,    ///< wire::TreeRemove
  set_neighbor = 4,   ///< the address of the device on the far end of a port
  get_counters = 5,   ///< every port and engine counter, by name
  connect_qp = 6,     ///< wire::QpConnect: a host's RoCEv2 queue pair (docs/verbs.md)
  disconnect_qp = 7,  ///< wire::QpDisconnect
};
inline constexpr ControlKind kLastControlKind = ControlKind::disconnect_qp;
std::string_view to_string(ControlKind kind);

using MacAddress = std::array<std::uint8_t, 6>;

/// Where a switch sends inca packets that leave through `port` toward a
/// neighbour it cannot learn from (its parent switch): Ethernet, IPv4 and UDP
/// destination. IPv4 in host byte order.
struct NeighborAddress {
  std::uint16_t port = 0;
  MacAddress mac{};
  std::uint32_t ipv4 = 0;
  std::uint16_t udp_port = kDefaultUdpPort;
};

/// Connects a host's RoCEv2 queue pair to the switch (docs/verbs.md): the
/// switch gives it a UC queue pair of its own, takes the host's RDMA WRITEs
/// with immediate on it and writes results into the host's ring. IPv4 in
/// host byte order.
struct QpConnect {
  std::uint32_t job = 0;
  std::uint16_t port = kNoPort;  ///< the host's switch port; kNoPort: its first valid packet's
  MacAddress mac{};              ///< the host NIC's MAC
  std::uint32_t ipv4 = 0;        ///< its IPv4 address (the RoCEv2 GID ::ffff:a.b.c.d)
  std::uint32_t qpn = 0;         ///< the host's UC queue pair (24 bits)
  std::uint32_t psn = 0;         ///< the first PSN the host sends (24 bits)
  std::uint16_t mtu = 1024;      ///< path MTU: 256, 512, 1024, 2048 or 4096
  std::uint64_t ring_va = 0;     ///< the host's result ring, registered for remote write
  std::uint32_t ring_rkey = 0;
  std::uint32_t ring_entries = 0;
  std::uint32_t ring_entry_bytes = 0;
  bool operator==(const QpConnect&) const = default;
};

/// Disconnects the switch's queue pair `qpn`.
struct QpDisconnect {
  std::uint32_t qpn = 0;
};

/// The answer to connect_qp: the switch's queue pair and the first PSN it sends.
struct QpInfo {
  std::uint32_t qpn = 0;
  std::uint32_t psn = 0;
  bool operator==(const QpInfo&) const = default;
};

struct PingRequest {};
struct CountersRequest {};

using ControlRequestBody = std::variant<PingRequest, TreeInstall, TreeRemove, NeighborAddress,
                                        CountersRequest, QpConnect, QpDisconnect>;

struct ControlRequest {
  std::uint32_t id = 0;  ///< echoed in the reply
  ControlRequestBody body;
  ControlKind kind() const;
};

/// One port of a switch as the switch reports it.
struct SwitchPortInfo {
  std::string name;  ///< the DPDK device name, e.g. "net_memif0"
  MacAddress mac{};
};

/// The answer to a ping.
struct SwitchInfo {
  std::string name;
  std::uint32_t ipv4 = 0;  ///< the switch's own address (host byte order)
  std::uint16_t udp_port = 0;
  std::uint32_t slots = 0;
  std::uint32_t slot_payload_bytes = 0;
  std::uint32_t free_slots = 0;
  std::uint32_t trees = 0;
  std::vector<SwitchPortInfo> ports;  ///< index = switch port number
};

struct Counter {
  std::string name;  ///< e.g. "engine.contributions", "port1.rx_packets"
  std::uint64_t value = 0;
};

using ControlReplyBody = std::variant<std::monostate, SwitchInfo, std::vector<Counter>, QpInfo>;

/// A reply: the request's kind and id, a Status, and (only when ok) the
/// body of ping (SwitchInfo), get_counters (counters) or connect_qp (QpInfo).
struct ControlReply {
  std::uint32_t id = 0;
  ControlKind kind = ControlKind::ping;
  Status status;
  ControlReplyBody body;
};

/// Encodes a whole frame (length prefix included). Fails with
/// invalid_argument when a field exceeds the limits above.
Result<std::vector<std::byte>> encode_control(const ControlRequest& request);
Result<std::vector<std::byte>> encode_control(const ControlReply& reply);

/// Looks at the start of a byte stream: 0 while the length prefix or the
/// frame is incomplete, else the size of the first whole frame (prefix
/// included). Fails with malformed_packet when the prefix announces a body
/// outside [kControlMinBodyBytes, kControlMaxBodyBytes]; the stream cannot be
/// resynchronised after that.
Result<std::size_t> control_frame_size(std::span<const std::byte> stream);

/// Decodes one whole frame (length prefix included, nothing after it).
/// Every failure is malformed_packet with a message naming the field.
Result<ControlRequest> decode_control_request(std::span<const std::byte> frame);
Result<ControlReply> decode_control_reply(std::span<const std::byte> frame);

/// "aa:bb:cc:dd:ee:ff" and "10.0.0.1" for messages and logs.
std::string format_mac(const MacAddress& mac);
std::string format_ipv4(std::uint32_t ipv4);
/// Parses dotted-quad IPv4 (host byte order result); invalid_argument otherwise.
Result<std::uint32_t> parse_ipv4(std::string_view text);
/// Parses "aa:bb:cc:dd:ee:ff"; invalid_argument otherwise.
Result<MacAddress> parse_mac(std::string_view text);

}  // namespace inca::wire
