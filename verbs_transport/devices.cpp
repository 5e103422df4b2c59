#include "devices.hpp"

#include <infiniband/verbs.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include <fmt/format.h>

namespace inca::verbs {
namespace {

// IBTA's per-lane signalling rates (ibv_port_attr.active_speed) and lane counts.
double lane_gbps(std::uint8_t speed) {
  switch (speed) {
    case 1:
      return 2.5;
    case 2:
      return 5.0;
    case 4:
      return 10.0;
    case 8:
      return 10.3125;
    case 16:
      return 14.0625;
    case 32:
      return 25.78125;
    case 64:
      return 50.0;
    case 128:
      return 100.0;
    default:
      return 0;
  }
}
int lanes(std::uint8_t width) {
  switch (width) {
    case 1:
      return 1;
    case 2:
      return 4;
    case 4:
      return 8;
    case 8:
      return 12;
    case 16:
      return 2;
    default:
      return 0;
  }
}

wire::MacAddress netdev_mac(const std::string& netdev) {
  std::ifstream in("/sys/class/net/" + netdev + "/address");
  std::string text;
  in >> text;
  auto mac = wire::parse_mac(text);
  return mac ? *mac : wire::MacAddress{};
}

GidType gid_type(std::uint32_t t) {
  switch (t) {
    case IBV_GID_TYPE_ROCE_V1:
      return GidType::roce_v1;
    case IBV_GID_TYPE_ROCE_V2:
      return GidType::roce_v2;
    default:
      return GidType::ib;
  }
}

Status query_device(ibv_device* dev, std::vector<VerbsPort>& out) {
  const std::string name = ibv_get_device_name(dev);
  std::unique_ptr<ibv_context, int (*)(ibv_context*)> ctx(ibv_open_device(dev), ibv_close_device);
  if (!ctx)
    return make_error(StatusCode::io_error,
                      fmt::format("ibv_open_device({}): {}", name, std::strerror(errno)));
  ibv_device_attr attr{};
  if (const int rc = ibv_query_device(ctx.get(), &attr); rc != 0)
    return make_error(StatusCode::io_error,
                      fmt::format("ibv_query_device({}): {}", name, std::strerror(rc)));
  for (std::uint8_t port = 1; port <= attr.phys_port_cnt; ++port) {
    ibv_port_attr pa{};
    if (const int rc = ibv_query_port(ctx.get(), port, &pa); rc != 0)
      return make_error(StatusCode::io_error,
                        fmt::format("ibv_query_port({}, {}): {}", name, port, std::strerror(rc)));
    VerbsPort p;
    p.device = name;
    p.port = port;
    p.active = pa.state == IBV_PORT_ACTIVE;
    p.ethernet = pa.link_layer == IBV_LINK_LAYER_ETHERNET;
    p.active_mtu = 128u << pa.active_mtu;  // IBV_MTU_256 = 1 ... IBV_MTU_4096 = 5
    p.gbps = lane_gbps(pa.active_speed) * lanes(pa.active_width);
    for (int i = 0; i < pa.gid_tbl_len; ++i) {
      ibv_gid_entry e{};
      if (ibv_query_gid_ex(ctx.get(), port, static_cast<std::uint32_t>(i), &e, 0) != 0)
        continue;  // ENODATA: an empty entry
      GidEntry g;
      g.index = e.gid_index;
      std::memcpy(g.gid.data(), e.gid.raw, g.gid.size());
      g.type = gid_type(e.gid_type);
      char ifname[IF_NAMESIZE] = {};
      if (e.ndev_ifindex != 0 && ::if_indextoname(e.ndev_ifindex, ifname) != nullptr) {
        g.netdev = ifname;
        g.mac = netdev_mac(g.netdev);
      }
      p.gids.push_back(g);
    }
    out.push_back(std::move(p));
  }
  return {};
}

}  // namespace

Result<std::vector<VerbsPort>> discover_ports() {
  int n = 0;
  errno = 0;
  ibv_device** list = ibv_get_device_list(&n);
  if (list == nullptr) {
    const int e = errno;
    return make_error(
        StatusCode::not_supported,
        fmt::format("no RDMA stack on this machine: ibv_get_device_list failed ({}){}",
                    std::strerror(e),
                    e == ENOSYS ? "; the kernel has no RDMA support (a RoCE NIC driver such as "
                                  "mlx5_ib, or rdma_rxe for Soft-RoCE, must be loaded)"
                                : ""));
  }
  std::unique_ptr<ibv_device*, void (*)(ibv_device**)> devices(list, ibv_free_device_list);
  if (n == 0)
    return make_error(StatusCode::not_supported,
                      "no RDMA device (the kernel supports RDMA, but no NIC registered one; "
                      "for Soft-RoCE: rdma link add rxe0 type rxe netdev IFACE)");
  std::vector<VerbsPort> ports;
  for (int i = 0; i < n; ++i) INCA_RETURN_IF_ERROR(query_device(list[i], ports));
  return ports;
}

}  // namespace inca::verbs
