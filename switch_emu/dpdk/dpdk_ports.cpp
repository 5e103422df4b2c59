#include "dpdk/dpdk_ports.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

namespace inca::dpdk_switch {
namespace {

constexpr std::uint16_t kRxDescriptors = 1024;
constexpr std::uint16_t kTxDescriptors = 1024;
constexpr std::uint32_t kMbufCache = 256;
constexpr std::uint32_t kStandardFrame = 1518;  // MTU 1500 + Ethernet header and FCS

Status dpdk_error(std::string_view what, int rc) {
  return make_error(StatusCode::io_error,
                    fmt::format("{}: {}", what, rte_strerror(rc < 0 ? -rc : rc)));
}

Status start_port(std::uint16_t id, rte_mempool* pool, std::uint32_t max_frame) {
  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(id, &info); rc != 0)
    return dpdk_error(fmt::format("port {}: device info", id), rc);
  rte_eth_conf conf{};
  // Larger frames than a standard MTU need the port told so (jumbo slots),
  // as far as the device allows; memif and af_packet ignore the MTU.
  const std::uint32_t frame = std::min(max_frame + RTE_ETHER_CRC_LEN, info.max_rx_pktlen);
  if (frame > kStandardFrame) conf.rxmode.mtu = frame - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN;
  if (int rc = rte_eth_dev_configure(id, 1, 1, &conf); rc != 0)
    return dpdk_error(fmt::format("port {}: configure", id), rc);
  std::uint16_t rxd = kRxDescriptors;
  std::uint16_t txd = kTxDescriptors;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd); rc != 0)
    return dpdk_error(fmt::format("port {}: descriptor counts", id), rc);
  const int socket = rte_eth_dev_socket_id(id);
  const unsigned numa = socket < 0 ? rte_socket_id() : static_cast<unsigned>(socket);
  if (int rc = rte_eth_rx_queue_setup(id, 0, rxd, numa, nullptr, pool); rc != 0)
    return dpdk_error(fmt::format("port {}: RX queue", id), rc);
  if (int rc = rte_eth_tx_queue_setup(id, 0, txd, numa, nullptr); rc != 0)
    return dpdk_error(fmt::format("port {}: TX queue", id), rc);
  if (int rc = rte_eth_dev_start(id); rc != 0)
    return dpdk_error(fmt::format("port {}: start", id), rc);
  // memif and some NICs cannot be promiscuous; switching works without it
  // where the device delivers every frame anyway.
  (void)rte_eth_promiscuous_enable(id);
  return {};
}

}  // namespace

Status init_eal(int argc, char** argv) {
  if (rte_eal_init(argc, argv) < 0)
    return make_error(StatusCode::io_error,
                      fmt::format("EAL initialisation failed: {}", rte_strerror(rte_errno)));
  return {};
}

Status check_vdevs_probed(int argc, char** argv) {
  constexpr std::string_view kFlag = "--vdev";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.substr(0, kFlag.size()) != kFlag) continue;
    if (arg == kFlag) {  // "--vdev NAME,..."
      if (i + 1 >= argc) break;
      arg = argv[++i];
    } else if (arg.size() > kFlag.size() && arg[kFlag.size()] == '=') {
      arg.remove_prefix(kFlag.size() + 1);
    } else {
      continue;
    }
    const std::string name(arg.substr(0, arg.find(',')));
    std::uint16_t id = 0;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0)
      return make_error(StatusCode::config_error,
                        fmt::format("device {} did not come up (see the EAL messages above); "
                                    "refusing to run with renumbered ports",
                                    name));
  }
  return {};
}

std::uint16_t probed_ports() {
  return rte_eth_dev_count_avail();
}

Result<rte_mempool*> create_mbuf_pool(const char* name, std::uint16_t ports,
                                      std::uint32_t max_frame) {
  const std::uint32_t room = std::max<std::uint32_t>(RTE_MBUF_DEFAULT_DATAROOM, max_frame);
  // Every RX and TX ring full, every egress queue half full, plus headroom
  // for frames in flight inside the loop.
  const std::uint32_t count = ports * (kRxDescriptors + kTxDescriptors + 2048) + 4096;
  rte_mempool* pool = rte_pktmbuf_pool_create(
      name, count, kMbufCache, 0, static_cast<std::uint16_t>(room + RTE_PKTMBUF_HEADROOM),
      static_cast<int>(rte_socket_id()));
  if (pool == nullptr)
    return make_error(StatusCode::no_resource,
                      fmt::format("mbuf pool of {} x {} B: {} (raise -m or use hugepages)", count,
                                  room, rte_strerror(rte_errno)));
  return pool;
}

Result<std::vector<DpdkPort>> start_ports(rte_mempool* pool, std::uint32_t max_frame) {
  std::vector<DpdkPort> ports;
  std::uint16_t id = 0;
  RTE_ETH_FOREACH_DEV(id) {
    DpdkPort port;
    port.id = id;
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    rte_eth_dev_get_name_by_port(id, name);
    port.identity.name = name;
    rte_ether_addr mac{};
    if (int rc = rte_eth_macaddr_get(id, &mac); rc != 0)
      return dpdk_error(fmt::format("port {} ({}): MAC address", id, name), rc);
    // A tap's device MAC belongs to its kernel side, which is the host on
    // that port; the switch needs an address of its own there.
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(id, &info) == 0 && info.driver_name != nullptr &&
        std::string_view(info.driver_name) == "net_tap")
      rte_eth_random_addr(mac.addr_bytes);
    std::copy(std::begin(mac.addr_bytes), std::end(mac.addr_bytes), port.identity.mac.begin());
    INCA_RETURN_IF_ERROR(start_port(id, pool, max_frame));
    ports.push_back(std::move(port));
  }
  // DPDK's af_packet PMD opens each queue's socket for ETH_P_ALL, sets up
  // and maps its ring, and only then binds it to the interface: frames that
  // any interface of the namespace carried in between (another switch's
  // hosts, say) sit in the ring and would reach the pipeline as if they had
  // come in on this port. Every socket is bound by now (the EAL probed the
  // devices before start_ports), so emptying the rings once removes them.
  // Bounded: on a busy NIC new frames keep coming, and those are the
  // switch's to forward.
  constexpr std::uint64_t kMaxDiscarded = 65536;  // above any ring: af_packet's is 512 frames
  for (DpdkPort& port : ports) {
    std::array<rte_mbuf*, 32> burst{};
    std::uint16_t n = 0;
    do {
      n = rte_eth_rx_burst(port.id, 0, burst.data(), burst.size());
      rte_pktmbuf_free_bulk(burst.data(), n);
      port.discarded_at_start += n;
    } while (n == burst.size() && port.discarded_at_start < kMaxDiscarded);
  }
  if (ports.empty())
    return make_error(StatusCode::config_error,
                      "no ports: give the EAL devices, e.g. "
                      "--vdev=net_memif0,role=server,socket=/tmp/inca0.sock,socket-abstract=no "
                      "or --vdev=net_af_packet0,iface=veth0 or -a <PCI address>");
  return ports;
}

bool link_up(std::uint16_t port_id) {
  rte_eth_link link{};
  return rte_eth_link_get_nowait(port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

bool links_up(const std::vector<DpdkPort>& ports) {
  for (const DpdkPort& p : ports)
    if (!link_up(p.id)) return false;
  return true;
}

void stop_ports(const std::vector<DpdkPort>& ports) {
  for (const DpdkPort& p : ports) {
    if (int rc = rte_eth_dev_stop(p.id); rc != 0)
      fmt::print(stderr, "port {}: stop: {}\n", p.id, rte_strerror(-rc));
    rte_eth_dev_close(p.id);
  }
}

std::uint64_t tsc_to_ns(std::uint64_t tsc) {
  static const double ns_per_tick = 1e9 / static_cast<double>(rte_get_tsc_hz());
  return static_cast<std::uint64_t>(static_cast<double>(tsc) * ns_per_tick);
}

}  // namespace inca::dpdk_switch
