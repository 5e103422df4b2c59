#include "inca/process_world.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <exception>

#include <fmt/format.h>

#include "inca/communicator.hpp"
#include "inca/world.hpp"
#include "runtime/recovery_options.hpp"
#include "udp/bootstrap.hpp"
#include "udp/udp_rank_driver.hpp"
#include "wire/control_codec.hpp"
#ifdef INCA_HAVE_MEMIF
#include <unistd.h>

#include "dpdk/memif_rank_driver.hpp"
#endif

namespace inca {

class ProcessWorld::Impl {
 public:
  udp::Bootstrap boot;
  std::unique_ptr<udp::DatagramRankDriver> driver;
};

namespace {

// Point-to-point fragments fit a 1500-byte Ethernet MTU with IPv4, UDP and
// the inca header (1460 B), so no datagram is ever fragmented on a veth.
constexpr std::uint32_t kP2pPayloadBytes = 1400;
constexpr Time kFirstTimeout = 10 * kPicosPerMilli;

// The endpoint of a rank process: the live fabric's recovery defaults
// (reliable point-to-point, adaptive timeouts from 1 ms), with the launcher's
// timeout as the point where an unanswered operation fails.
protocol::EndpointConfig endpoint_config(const udp::Bootstrap& b) {
  FabricOptions fabric;
  fabric.fabric = FabricKind::live;
  fabric.topology = TopologyKind::star;
  fabric.ranks = b.size;
  if (b.link_gbps > 0) fabric.link_gbps = b.link_gbps;
  fabric.mtu = static_cast<std::uint32_t>(wire::kHeaderBytes) + kP2pPayloadBytes;
  RecoveryOptions recovery = fabric.recovery;
  recovery.failure_timeout = static_cast<Time>(b.timeout_ms) * kPicosPerMilli;
  protocol::EndpointConfig cfg;
  cfg.rank = b.rank;
  cfg.address = b.rank;
  for (std::uint32_t r = 0; r < b.size; ++r) cfg.rank_address.push_back(r);
  cfg.job = b.job;
  cfg.key_tag = b.key_tag;
  cfg.p2p_payload_bytes = kP2pPayloadBytes;
  cfg.retransmit_timeout = fabric.retransmit_timeout;
  // One switch between ranks: a round trip crosses 4 links.
  const Time hop =
      fabric.latency + protocol::drain_time(fabric.mtu + wire::kFramingBytes, fabric.link_gbps);
  runtime::apply(runtime::resolve(recovery, FabricKind::live), 4 * hop, cfg);
  // The first round trip includes ARP and a switch that may be sleeping
  // (it naps up to 1 ms when idle) on cores shared with the ranks: a 1 ms
  // first timeout would retransmit most of the first window.
  cfg.initial_retransmit_timeout = std::max(cfg.initial_retransmit_timeout, kFirstTimeout);
  cfg.nic_gbps = b.link_gbps;
  if (b.fixed_timeout_ms > 0) {
    // Every retransmission on veths is spurious (they lose nothing unless
    // a buffer overflows); on a busy machine a descheduled rank or switch
    // outlasts an adaptive timeout of a few round trips.
    cfg.adaptive_timeout = false;
    cfg.retransmit_timeout = static_cast<Time>(b.fixed_timeout_ms) * kPicosPerMilli;
  }
  return cfg;
}

using DriverResult = Result<std::unique_ptr<udp::DatagramRankDriver>>;

DriverResult open_udp(const udp::Bootstrap& b) {
  udp::UdpDriverConfig dc;
  dc.endpoint = endpoint_config(b);
  for (const std::string& peer : b.peers) dc.peers.push_back(*udp::parse_ipv4_port(peer));
  dc.bind = dc.peers[b.rank];
  dc.switch_address = *udp::parse_ipv4_port(b.switch_address);
  dc.netns = b.netns;
  dc.idle_timeout = static_cast<Time>(b.timeout_ms) * kPicosPerMilli;
  auto driver = udp::UdpRankDriver::open(std::move(dc));
  if (!driver.ok()) return driver.status();
  return DriverResult(std::unique_ptr<udp::DatagramRankDriver>(std::move(*driver)));
}

#ifdef INCA_HAVE_MEMIF
// IPv4 (host byte order) and port of a validated "ip:port".
dpdk_switch::UdpEndpoint udp_endpoint(const std::string& address, const std::string& mac) {
  const sockaddr_in sa = *udp::parse_ipv4_port(address);
  return {mac.empty() ? dpdk_switch::kBroadcastMac : *wire::parse_mac(mac),
          ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)};
}
#endif

DriverResult open_memif(const udp::Bootstrap& b) {
#ifdef INCA_HAVE_MEMIF
  memif::MemifDriverConfig dc;
  dc.endpoint = endpoint_config(b);
  dc.socket = b.memif_socket;
  // Unique per launcher and rank: the launcher removes what a crashed rank
  // leaves under this prefix.
  dc.eal_prefix = fmt::format("inca-{}-rank{}", ::getppid(), b.rank);
  for (std::uint32_t r = 0; r < b.size; ++r)
    dc.peers.push_back(udp_endpoint(b.peers[r], b.macs[r]));
  dc.self = dc.peers[b.rank];
  // The switch takes inca datagrams whatever their destination MAC.
  dc.switch_address = udp_endpoint(b.switch_address, "");
  dc.idle_timeout = static_cast<Time>(b.timeout_ms) * kPicosPerMilli;
  auto driver = memif::MemifRankDriver::open(std::move(dc));
  if (!driver.ok()) return driver.status();
  return DriverResult(std::unique_ptr<udp::DatagramRankDriver>(std::move(*driver)));
#else
  (void)b;
  return make_error(StatusCode::not_supported,
                    "INCA_FABRIC=memif: this build has no DPDK (libdpdk was not found)");
#endif
}

}  // namespace

bool ProcessWorld::launched() {
  return udp::launched_on_udp();
}

Result<std::unique_ptr<ProcessWorld>> ProcessWorld::from_env() {
  auto boot = udp::bootstrap_from_env();
  if (!boot.ok()) return boot.status();
  auto driver = boot->fabric == "memif" ? open_memif(*boot) : open_udp(*boot);
  if (!driver.ok()) return driver.status();
  auto impl = std::make_unique<Impl>();
  impl->boot = std::move(*boot);
  impl->driver = std::move(*driver);
  return std::unique_ptr<ProcessWorld>(new ProcessWorld(std::move(impl)));
}

ProcessWorld::ProcessWorld(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessWorld::~ProcessWorld() = default;

int ProcessWorld::rank() const {
  return static_cast<int>(impl_->boot.rank);
}
int ProcessWorld::size() const {
  return static_cast<int>(impl_->boot.size);
}

std::string ProcessWorld::describe() const {
  const udp::Bootstrap& b = impl_->boot;
  std::string tree = b.tree ? fmt::format("tree {}: {} slots x {} B", b.tree->tree, b.tree->slots,
                                          b.tree->slot_payload_bytes)
                            : std::string("no aggregation tree");
  return fmt::format("rank {} of {} on {} {}, switch {}, job {}, {}", b.rank, b.size, b.fabric,
                     b.peers[b.rank], b.switch_address, b.job, tree);
}

Status ProcessWorld::run(const std::function<void(Communicator&)>& rank_main) {
  if (!rank_main)
    return make_error(StatusCode::invalid_argument, "ProcessWorld::run: the rank program is empty");
  const udp::Bootstrap& b = impl_->boot;
  const Status innet =
      b.tree ? Status()
             : make_error(StatusCode::no_tree,
                          "the launcher installed no tree for this job (INCA_TREE is not set)");
  Communicator comm(b.rank, b.size, *impl_->driver, b.tree ? &*b.tree : nullptr, innet, false);
  try {
    rank_main(comm);
  } catch (const std::exception& e) {
    return make_error(StatusCode::internal, fmt::format("rank {}: {}", b.rank, e.what()));
  }
  Status s = comm.barrier();
  // Answer retransmissions (acknowledge what a peer did not hear acknowledged)
  // until the job has been quiet for a while.
  impl_->driver->linger(kPicosPerMilli * 100);
  return s;
}

}  // namespace inca
