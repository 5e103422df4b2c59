#include "dpdk/memif_rank_driver.hpp"

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "dpdk/dpdk_ports.hpp"
#include "udp/switch_process.hpp"

namespace inca::memif {
namespace {

using dpdk_switch::kUdpFrameHeadBytes;

// Frames moved per rx/tx burst.
constexpr std::size_t kBurst = 32;
// The largest frame a rank sends or takes: a whole inca datagram in Ethernet/IPv4/UDP.
constexpr std::size_t kMaxFrame = kUdpFrameHeadBytes + udp::kDatagramBytes;
// A full TX ring (the switch was descheduled) is retried this many times,
// yielding the CPU in between, before the rest of the burst is dropped: a
// dropped frame costs a retransmission timeout.
constexpr int kTxRetries = 64;

// Idle polling. A memif port has no file descriptor to sleep on as a socket
// has, and the machines this runs on share few cores between the ranks and
// the switch, so a waiting rank must not spin: it yields the CPU for its
// first kYieldPolls empty polls (an answer usually follows within
// microseconds while a window is in flight), then sleeps kIdleSleep at a time
// (bounded by the endpoint's next timer), and after about 0.1 s without a
// frame kQuietSleep, as inca-switch does when idle. The cost is latency: the
// first frame after a pause waits up to one sleep.
constexpr std::uint32_t kYieldPolls = 64;
constexpr std::uint32_t kQuietPolls = kYieldPolls + 2000;
constexpr auto kIdleSleep = std::chrono::microseconds(50);
constexpr auto kQuietSleep = std::chrono::milliseconds(1);

// rte_eal_init may run once per process.
std::atomic<bool> g_eal_taken{false};

void release_eal(const std::string& prefix) {
  rte_eal_cleanup();
  udp::remove_eal_prefix_dir(prefix);
}

}  // namespace

Result<std::unique_ptr<MemifRankDriver>> MemifRankDriver::open(MemifDriverConfig config) {
  if (g_eal_taken.exchange(true))
    return make_error(StatusCode::io_error,
                      "one memif rank driver per process: DPDK's EAL cannot be initialised twice");
  const long cpus = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
  std::vector<std::string> args = {
      "inca-rank", "--no-huge", "-m", "256", "--no-pci", "--no-telemetry", "--file-prefix",
      config.eal_prefix,
      // One lcore, free to run on any CPU: the machine is shared.
      fmt::format("--lcores=0@(0-{})", cpus - 1), "--log-level=lib.eal:warning",
      fmt::format("--vdev=net_memif0,role=client,socket={},socket-abstract=no,mac={}",
                  config.socket, wire::format_mac(config.self.mac))};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int argc = static_cast<int>(args.size());
  INCA_RETURN_IF_ERROR(dpdk_switch::init_eal(argc, argv.data()));
  auto fail = [&](const Status& s) {
    release_eal(config.eal_prefix);
    return s;
  };
  if (Status s = dpdk_switch::check_vdevs_probed(argc, argv.data()); !s.ok()) return fail(s);
  auto pool = dpdk_switch::create_mbuf_pool("inca_rank", 1, kMaxFrame);
  if (!pool.ok()) return fail(pool.status());
  auto ports = dpdk_switch::start_ports(*pool, kMaxFrame);
  if (!ports.ok()) return fail(ports.status());
  const std::uint16_t port = ports->front().id;
  // The client connects in the background once the server's socket answers.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::nanoseconds(config.link_timeout / kPicosPerNano);
  while (!dpdk_switch::link_up(port)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      dpdk_switch::stop_ports(*ports);
      return fail(make_error(StatusCode::io_error,
                             fmt::format("memif link to {} stayed down for {} ms (is the switch "
                                         "serving that socket?)",
                                         config.socket, config.link_timeout / kPicosPerMilli)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // From here on the rank polls the rings; the switch may leave at any time.
  auto gate = dpdk_switch::InterruptGate::open();
  if (!gate.ok()) {
    dpdk_switch::stop_ports(*ports);
    return fail(gate.status());
  }
  return std::unique_ptr<MemifRankDriver>(
      new MemifRankDriver(std::move(config), *pool, port, std::move(*gate)));
}

MemifRankDriver::MemifRankDriver(MemifDriverConfig config, rte_mempool* pool, std::uint16_t port,
                                 std::unique_ptr<dpdk_switch::InterruptGate> gate)
    : DatagramRankDriver(config.endpoint, config.idle_timeout),
      config_(std::move(config)),
      pool_(pool),
      port_(port),
      gate_(std::move(gate)),
      tx_(kBurst),
      rx_(kBurst),
      scratch_(kMaxFrame) {}

MemifRankDriver::~MemifRankDriver() {
  gate_.reset();  // the PMD's callbacks run freely again while the port stops
  dpdk_switch::DpdkPort p;
  p.id = port_;
  dpdk_switch::stop_ports({p});
  rte_mempool_free(pool_);
  release_eal(config_.eal_prefix);
}

void MemifRankDriver::flush(std::size_t n) {
  std::size_t sent = 0;
  for (int tries = 0; sent < n && tries <= kTxRetries; ++tries) {
    sent += rte_eth_tx_burst(port_, 0, tx_.data() + sent, static_cast<std::uint16_t>(n - sent));
    if (sent < n) std::this_thread::yield();
  }
  for (std::size_t i = sent; i < n; ++i) {
    rte_pktmbuf_free(tx_[i]);
    ++send_errors_;
  }
}

void MemifRankDriver::transmit(protocol::Outbox& out) {
  std::size_t n = 0;
  for (const wire::Packet& p : out) {
    const dpdk_switch::UdpEndpoint* to = &config_.switch_address;
    if (udp::addressed_to_peer(p)) {
      if (p.dst >= config_.peers.size()) {
        ++send_errors_;
        continue;
      }
      to = &config_.peers[p.dst];
    }
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) {
      ++send_errors_;
      continue;
    }
    auto* data = rte_pktmbuf_mtod(m, std::byte*);
    const std::size_t room = rte_pktmbuf_tailroom(m);
    const std::size_t bytes =
        room > kUdpFrameHeadBytes
            ? wire::encode(p.header, p.payload_span(),
                           {data + kUdpFrameHeadBytes, room - kUdpFrameHeadBytes})
            : 0;
    if (bytes == 0 ||
        dpdk_switch::write_udp_head({data, kUdpFrameHeadBytes}, config_.self, *to, bytes) == 0) {
      rte_pktmbuf_free(m);
      ++send_errors_;
      continue;
    }
    rte_pktmbuf_append(m, static_cast<std::uint16_t>(kUdpFrameHeadBytes + bytes));
    tx_[n++] = m;
    if (n == kBurst) {
      flush(n);
      n = 0;
    }
  }
  flush(n);
  out.clear();
}

bool MemifRankDriver::drain() {
  gate_->between_bursts(idle_polls_ > kYieldPolls);
  bool any = false;
  while (true) {
    const std::uint16_t got = rte_eth_rx_burst(port_, 0, rx_.data(), kBurst);
    if (got == 0) break;
    any = true;
    const Time t = now();
    for (std::uint16_t i = 0; i < got; ++i) {
      rte_mbuf* m = rx_[i];
      const std::uint32_t len = rte_pktmbuf_pkt_len(m);
      // A contiguous frame is read in place; a chained one is copied out.
      const auto* frame =
          len <= scratch_.size()
              ? static_cast<const std::byte*>(rte_pktmbuf_read(m, 0, len, scratch_.data()))
              : nullptr;
      dpdk_switch::ParsedFrame f;
      // Frames flooded to every port (a peer's frame to a MAC the switch has
      // not learned yet, ARP) are not ours: only datagrams to this rank's
      // address and port are.
      if (frame != nullptr &&
          dpdk_switch::parse_frame({frame, len}, f) == dpdk_switch::FrameError::none &&
          f.kind == dpdk_switch::FrameKind::udp && f.dst_ip == config_.self.ipv4 &&
          f.dst_port == config_.self.port &&
          dpdk_switch::check_inca_datagram(f, false) == dpdk_switch::DatagramError::none)
        deliver(f.udp_payload, t);
      rte_pktmbuf_free(m);
    }
    // The answers to the whole burst leave together (payloads were copied out).
    transmit(outbox_);
  }
  if (any) idle_polls_ = 0;
  return any;
}

void MemifRankDriver::wait_for_datagram(Time wait) {
  ++idle_polls_;
  if (idle_polls_ <= kYieldPolls) {
    std::this_thread::yield();
    return;
  }
  const auto cap = idle_polls_ > kQuietPolls ? std::chrono::nanoseconds(kQuietSleep)
                                             : std::chrono::nanoseconds(kIdleSleep);
  std::this_thread::sleep_for(std::min(cap, std::chrono::nanoseconds(wait / kPicosPerNano)));
}

}  // namespace inca::memif
