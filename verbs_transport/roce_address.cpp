#include "roce_address.hpp"

#include <charconv>

#include <fmt/format.h>

namespace inca::verbs {
namespace {

template <typename T>
bool parse(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::string_view type_name(GidType t) {
  switch (t) {
    case GidType::ib:
      return "IB";
    case GidType::roce_v1:
      return "RoCEv1";
    case GidType::roce_v2:
      return "RoCEv2";
  }
  return "?";
}

}  // namespace

Result<PortSelection> parse_port_selection(std::string_view text) {
  PortSelection s;
  const auto bad =
      make_error(StatusCode::invalid_argument,
                 fmt::format("INCA_VERBS_DEVICE='{}' is not device[:port[:gid_index]]", text));
  const auto first = text.find(':');
  s.device = text.substr(0, first);
  if (s.device.empty()) return bad;
  if (first == std::string_view::npos) return s;
  text.remove_prefix(first + 1);
  const auto second = text.find(':');
  unsigned port = 0;
  if (!parse(text.substr(0, second), port) || port == 0 || port > 255) return bad;
  s.port = static_cast<std::uint8_t>(port);
  if (second == std::string_view::npos) return s;
  std::uint32_t index = 0;
  if (!parse(text.substr(second + 1), index)) return bad;
  s.gid_index = index;
  return s;
}

std::optional<std::uint32_t> gid_ipv4(const std::array<std::uint8_t, 16>& gid) {
  for (int i = 0; i < 10; ++i)
    if (gid[i] != 0) return std::nullopt;
  if (gid[10] != 0xff || gid[11] != 0xff) return std::nullopt;
  return (std::uint32_t{gid[12]} << 24) | (std::uint32_t{gid[13]} << 16) |
         (std::uint32_t{gid[14]} << 8) | gid[15];
}

std::array<std::uint8_t, 16> ipv4_gid(std::uint32_t ipv4) {
  std::array<std::uint8_t, 16> gid{};
  gid[10] = gid[11] = 0xff;
  for (int i = 0; i < 4; ++i) gid[12 + i] = static_cast<std::uint8_t>(ipv4 >> (24 - 8 * i));
  return gid;
}

Result<RoceAddress> choose_roce_v2(const std::vector<VerbsPort>& ports,
                                   const PortSelection& selection, std::uint32_t ipv4) {
  std::string seen;
  for (const VerbsPort& p : ports) {
    std::vector<std::string> gids;
    for (const GidEntry& g : p.gids) {
      const auto v4 = gid_ipv4(g.gid);
      gids.push_back(fmt::format("{} {} {}", g.index, type_name(g.type),
                                 v4 ? wire::format_ipv4(*v4) : std::string("(not IPv4)")));
    }
    seen += fmt::format("\n  {} port {}: {}, {}, GIDs [{}]", p.device, p.port,
                        p.active ? "active" : "down", p.ethernet ? "Ethernet" : "InfiniBand",
                        fmt::join(gids, "; "));
    if (!selection.device.empty() && p.device != selection.device) continue;
    if (selection.port && p.port != *selection.port) continue;
    if (!p.active || !p.ethernet) continue;
    for (const GidEntry& g : p.gids) {
      const auto v4 = gid_ipv4(g.gid);
      if (g.type != GidType::roce_v2 || !v4) continue;
      if (selection.gid_index && g.index != *selection.gid_index) continue;
      if (ipv4 != 0 && *v4 != ipv4) continue;
      return RoceAddress{p.device, p.port, g.index,      g.gid, *v4,
                         g.netdev, g.mac,  p.active_mtu, p.gbps};
    }
  }
  return make_error(
      StatusCode::not_supported,
      fmt::format("no active RoCEv2 port with an IPv4 GID{}{} among the RDMA ports found:{}",
                  selection.device.empty() ? "" : " on " + selection.device,
                  ipv4 != 0 ? " for " + wire::format_ipv4(ipv4) : "",
                  seen.empty() ? std::string(" none") : seen));
}

std::vector<RoceAddress> roce_v2_ports(const std::vector<VerbsPort>& ports,
                                       const PortSelection& selection) {
  std::vector<RoceAddress> found;
  for (const VerbsPort& p : ports) {
    PortSelection one = selection;
    one.device = p.device;
    one.port = p.port;
    if ((!selection.device.empty() && p.device != selection.device) ||
        (selection.port && p.port != *selection.port))
      continue;
    if (auto a = choose_roce_v2({p}, one, 0); a.ok()) found.push_back(*a);
  }
  return found;
}

}  // namespace inca::verbs
