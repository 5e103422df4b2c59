#include "dpdk/loadgen/loadgen.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "dpdk/loadgen/chunk_codec.hpp"
#include "dpdk/roce_frame.hpp"
#include "dpdk/roce_host.hpp"
#include "wire/header.hpp"

namespace inca::dpdk_switch {
namespace {

constexpr std::uint16_t kBurst = 32;
constexpr std::uint16_t kDiscardPort = 9;      // forwarding frames: UDP discard
constexpr std::uint16_t kHostUdpBase = 40000;  // host i sends from port 40000 + i
// Generous: on a shared machine a descheduled process can stall a round
// trip for many milliseconds, and a spurious retransmission costs a slot.
constexpr double kRetransmitSeconds = 1.0;
constexpr double kDrainSeconds = 0.2;

std::uint32_t host_ip(std::size_t i) {
  return (10u << 24) | (99u << 16) | static_cast<std::uint32_t>(i + 1);
}

// The queue pair of RoCEv2 host i: its PSNs start just below the 24-bit
// wrap, so that every run crosses it.
RoceHostConfig roce_config(std::size_t i, const UdpEndpoint& self, const UdpEndpoint& aggregator,
                           std::uint16_t switch_port, std::uint32_t job, std::uint32_t window,
                           std::size_t packet_bytes) {
  RoceHostConfig c;
  c.job = job;
  c.self = {self.mac, self.ipv4, static_cast<std::uint16_t>(0xc000 + i)};
  c.switch_port = aggregator;
  c.port = switch_port;
  c.qpn = 0x100u + static_cast<std::uint32_t>(i);
  c.psn = 0xffff00u + static_cast<std::uint32_t>(i);
  c.ring_va = 0x100000000ull * (i + 1);
  c.ring_rkey = 0x4000u + static_cast<std::uint32_t>(i);
  c.ring_entries = 2 * window;
  c.ring_entry_bytes = static_cast<std::uint32_t>(packet_bytes);
  return c;
}

double elapsed(std::uint64_t since) {
  return static_cast<double>(rte_get_tsc_cycles() - since) / static_cast<double>(rte_get_tsc_hz());
}

}  // namespace

// One emulated host: its addresses and, per slot, the chunk in flight.
struct LoadGenerator::Host {
  UdpEndpoint self;
  UdpEndpoint aggregator;        // the switch, on the port this host plugs into
  std::optional<RoceHost> roce;  // its NIC, on the RoCEv2 transport
  std::uint16_t child = 0;
  std::vector<std::uint32_t> in_flight;  // per slot: sequence awaiting its result
  std::vector<std::uint64_t> sent_at;    // per slot: TSC of the last send
  std::vector<rte_mbuf*> pending;        // built, not yet taken by the port
};

LoadGenerator::LoadGenerator(LoadgenConfig config, std::vector<DpdkPort> ports, rte_mempool* pool)
    : config_(std::move(config)), ports_(std::move(ports)), pool_(pool) {
  if (config_.switch_ports.empty())
    for (std::uint16_t i = 0; i < ports_.size(); ++i) config_.switch_ports.push_back(i);
}

std::uint32_t LoadGenerator::frame_bytes() const {
  return static_cast<std::uint32_t>(kUdpFrameHeadBytes + wire::kHeaderBytes) +
         config_.payload_bytes;
}

std::uint32_t LoadGenerator::roce_frame_bytes() const {
  // payload_bytes is a multiple of 4, so no pad.
  return static_cast<std::uint32_t>(kRoceWriteImmHeadBytes + wire::kHeaderBytes + kIcrcBytes) +
         config_.payload_bytes;
}

std::uint16_t LoadGenerator::flush(std::uint16_t port, std::vector<rte_mbuf*>& pending) {
  if (pending.empty()) return 0;
  const std::uint16_t n = static_cast<std::uint16_t>(std::min<std::size_t>(pending.size(), 512));
  const std::uint16_t sent = rte_eth_tx_burst(ports_[port].id, 0, pending.data(), n);
  pending.erase(pending.begin(), pending.begin() + sent);
  return sent;
}

void LoadGenerator::drain(double seconds) {
  const std::uint64_t start = rte_get_tsc_cycles();
  rte_mbuf* rx[kBurst];
  while (elapsed(start) < seconds)
    for (const DpdkPort& p : ports_) {
      const std::uint16_t n = rte_eth_rx_burst(p.id, 0, rx, kBurst);
      rte_pktmbuf_free_bulk(rx, n);
    }
}

Result<PhaseResult> LoadGenerator::run_forwarding() {
  const std::size_t n = ports_.size();
  if (n < 2) return make_error(StatusCode::invalid_argument, "forwarding needs >= 2 ports");
  // Port i sends to port i+1, so every port carries the same load. A
  // broadcast from each port first lets the switch learn where each MAC is.
  std::vector<std::vector<std::byte>> templates(n);
  for (std::size_t i = 0; i < n; ++i) {
    const UdpEndpoint src{ports_[i].identity.mac, host_ip(i), kDiscardPort};
    const UdpEndpoint dst{ports_[(i + 1) % n].identity.mac, host_ip((i + 1) % n), kDiscardPort};
    templates[i].assign(frame_bytes(), std::byte{0x5a});
    write_udp_head(templates[i], src, dst, frame_bytes() - kUdpFrameHeadBytes);
    std::vector<std::byte> hello = templates[i];
    std::memcpy(hello.data(), kBroadcastMac.data(), kBroadcastMac.size());
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) return make_error(StatusCode::no_resource, "mbuf pool exhausted");
    std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(hello.size())), hello.data(),
                hello.size());
    std::vector<rte_mbuf*> one{m};
    while (!one.empty()) flush(static_cast<std::uint16_t>(i), one);
  }
  drain(kDrainSeconds);

  PhaseResult result;
  rte_mbuf* burst[kBurst];
  const std::uint64_t start = rte_get_tsc_cycles();
  const std::uint64_t stop =
      start + static_cast<std::uint64_t>(config_.seconds * static_cast<double>(rte_get_tsc_hz()));
  while (rte_get_tsc_cycles() < stop) {
    for (std::size_t i = 0; i < n; ++i) {
      if (rte_pktmbuf_alloc_bulk(pool_, burst, kBurst) != 0) break;
      for (rte_mbuf* m : burst)
        std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame_bytes())),
                    templates[i].data(), frame_bytes());
      const std::uint16_t sent = rte_eth_tx_burst(ports_[i].id, 0, burst, kBurst);
      if (sent < kBurst) rte_pktmbuf_free_bulk(burst + sent, kBurst - sent);
    }
    for (const DpdkPort& p : ports_) {
      const std::uint16_t got = rte_eth_rx_burst(p.id, 0, burst, kBurst);
      result.packets += got;
      rte_pktmbuf_free_bulk(burst, got);
    }
  }
  result.seconds = elapsed(start);
  drain(kDrainSeconds);
  return result;
}

std::span<const std::byte> LoadGenerator::result_packet(Host& h, std::span<const std::byte> frame,
                                                        PhaseResult& result) {
  if (h.roce) {
    std::span<const std::byte> inca;
    const RoceResultError e = h.roce->take_result(frame, inca);
    if (e == RoceResultError::none) return inca;
    if (e != RoceResultError::not_roce) ++result.roce_errors;
    return {};
  }
  ParsedFrame f;
  if (parse_frame(frame, f) != FrameError::none || f.kind != FrameKind::udp ||
      f.dst_port != h.self.port)
    return {};
  return f.udp_payload;
}

void LoadGenerator::disconnect_all(manager::SwitchControlClient& control,
                                   const std::vector<Host>& hosts) {
  for (const Host& h : hosts)
    if (h.roce && h.roce->switch_qpn() != 0) (void)control.disconnect_qp(h.roce->switch_qpn());
}

Result<PhaseResult> LoadGenerator::run_aggregation(manager::SwitchControlClient& control,
                                                   Transport transport) {
  const bool roce = transport == Transport::roce;
  const std::size_t n = ports_.size();
  const std::uint32_t w = config_.window;
  if (config_.payload_bytes % 4 != 0 || config_.payload_bytes == 0)
    return make_error(StatusCode::invalid_argument, "--payload-bytes must be a multiple of 4");
  if (config_.switch_ports.size() != n)
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("{} switch ports given for {} loadgen ports", config_.switch_ports.size(), n));
  auto info = control.ping();
  if (!info) return info.status();

  wire::TreeInstall tree;
  tree.job = config_.job;
  tree.key_tag = config_.key_tag;
  tree.tree = config_.tree;
  tree.slot_count = static_cast<std::uint16_t>(w);
  tree.slot_payload_bytes = config_.payload_bytes;
  tree.child_ports = config_.switch_ports;
  (void)control.remove({tree.job, tree.tree});  // left over from an interrupted run
  INCA_RETURN_IF_ERROR(control.install(tree));

  std::vector<Host> hosts(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint16_t sp = config_.switch_ports[i];
    if (sp >= info->ports.size())
      return make_error(StatusCode::invalid_argument, fmt::format("switch has no port {}", sp));
    Host& h = hosts[i];
    h.self = {ports_[i].identity.mac, host_ip(i), static_cast<std::uint16_t>(kHostUdpBase + i)};
    h.aggregator = {info->ports[sp].mac, info->ipv4, info->udp_port};
    h.child = static_cast<std::uint16_t>(i);  // child_ports lists host i's port i-th
    h.in_flight.assign(w, 0);
    h.sent_at.assign(w, 0);
    if (!roce) continue;
    h.roce.emplace(roce_config(i, h.self, h.aggregator, sp, tree.job, w,
                               wire::kHeaderBytes + config_.payload_bytes));
    auto qp = control.connect_qp(h.roce->connect_request());
    if (!qp) {
      disconnect_all(control, hosts);
      (void)control.remove({tree.job, tree.tree});
      return qp.status();
    }
    h.roce->connected(*qp);
  }

  PhaseResult result;
  std::uint64_t building_failures = 0;
  wire::Header base;
  base.job = config_.job;
  base.key_tag = config_.key_tag;
  base.tree = config_.tree;
  const ChunkCodec codec(n, config_.payload_bytes, base);
  const std::uint32_t bytes = roce ? roce_frame_bytes() : frame_bytes();
  auto send = [&](Host& h, std::size_t index, std::uint32_t seq) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    char* data = m ? rte_pktmbuf_append(m, static_cast<std::uint16_t>(bytes)) : nullptr;
    if (data == nullptr) {
      if (m) rte_pktmbuf_free(m);
      ++building_failures;  // the retransmit timer sends it again
      return;
    }
    std::span<std::byte> frame(reinterpret_cast<std::byte*>(data), bytes);
    if (roce) {
      // The contribution is written in place, then the NIC's headers and ICRC around it.
      const auto inca = frame.subspan(kRoceWriteImmHeadBytes, codec.packet_bytes());
      codec.write_contribution(index, seq, w, inca);
      const wire::Header header = codec.header(wire::PacketType::contribution, h.child, seq, w);
      h.roce->write_contribution(header, inca, frame);
    } else {
      write_udp_head(frame, h.self, h.aggregator, codec.packet_bytes());
      codec.write_contribution(index, seq, w, frame.subspan(kUdpFrameHeadBytes));
    }
    const std::uint32_t slot = seq % w;
    h.in_flight[slot] = seq;
    h.sent_at[slot] = rte_get_tsc_cycles();
    h.pending.push_back(m);
  };

  for (std::size_t i = 0; i < n; ++i)
    for (std::uint32_t s = 0; s < w; ++s) send(hosts[i], i, s);

  const std::uint64_t hz = rte_get_tsc_hz();
  const std::uint64_t retransmit_after = static_cast<std::uint64_t>(kRetransmitSeconds * hz);
  const std::uint64_t start = rte_get_tsc_cycles();
  const std::uint64_t stop = start + static_cast<std::uint64_t>(config_.seconds * hz);
  std::uint64_t next_scan = start + retransmit_after;
  rte_mbuf* rx[kBurst];
  bool sending = true;
  std::uint64_t outstanding = n * w;
  while (outstanding > 0) {
    const std::uint64_t now = rte_get_tsc_cycles();
    if (sending && now >= stop) {
      sending = false;
      result.seconds = elapsed(start);
    }
    if (!sending && elapsed(start) > config_.seconds + 2) break;  // results lost at the end
    for (std::size_t i = 0; i < n; ++i) {
      Host& h = hosts[i];
      flush(static_cast<std::uint16_t>(i), h.pending);
      const std::uint16_t got = rte_eth_rx_burst(ports_[i].id, 0, rx, kBurst);
      for (std::uint16_t k = 0; k < got; ++k) {
        const std::span<const std::byte> packet = result_packet(
            h, {rte_pktmbuf_mtod(rx[k], const std::byte*), rte_pktmbuf_data_len(rx[k])}, result);
        const bool ours = packet.size() == codec.packet_bytes();
        // Slot and sequence sit at bytes 18 and 20 of the header (docs/protocol.md);
        // is_exact_result then checks every byte of the packet.
        const std::uint32_t slot = ours ? ((std::to_integer<std::uint32_t>(packet[18]) << 8) |
                                           std::to_integer<std::uint32_t>(packet[19])) &
                                              wire::kMaxSlot
                                        : w;
        std::uint32_t seq = 0;
        for (int b = 0; ours && b < 4; ++b)
          seq = (seq << 8) | std::to_integer<std::uint32_t>(packet[20 + b]);
        if (slot < w && seq == h.in_flight[slot] && h.sent_at[slot] != 0) {
          if (!codec.is_exact_result(packet, seq, w)) ++result.mismatches;
          if (sending) {
            ++result.packets;
            send(h, i, seq + w);
          } else {
            h.sent_at[slot] = 0;
            --outstanding;
          }
        }
        rte_pktmbuf_free(rx[k]);
      }
    }
    if (now >= next_scan) {
      next_scan = now + retransmit_after;
      for (std::size_t i = 0; i < n; ++i)
        for (std::uint32_t s = 0; s < w; ++s)
          if (hosts[i].sent_at[s] != 0 && now - hosts[i].sent_at[s] > retransmit_after) {
            ++result.retransmits;
            send(hosts[i], i, hosts[i].in_flight[s]);
          }
    }
  }
  for (Host& h : hosts)
    rte_pktmbuf_free_bulk(h.pending.data(), static_cast<unsigned>(h.pending.size()));
  drain(kDrainSeconds);
  disconnect_all(control, hosts);
  INCA_RETURN_IF_ERROR(control.remove({tree.job, tree.tree}));
  if (building_failures > 0)
    fmt::print(stderr, "inca-loadgen: {} contributions could not be built (mbuf pool)\n",
               building_failures);
  return result;
}

}  // namespace inca::dpdk_switch
