#include "verbs_rank.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include <fmt/format.h>

#include "devices.hpp"
#include "peer_info.hpp"
#include "rendezvous.hpp"

namespace inca::verbs {
namespace {

// Ring sizes: the switch may answer a window twice over (duplicates), and a
// peer may have this many packets unconsumed (each holds a receive request).
constexpr std::uint32_t kSwitchRingSlack = 64;
constexpr std::uint32_t kPeerRingEntries = 256;
constexpr std::uint32_t kSendBuffers = 512;

std::uint32_t ipv4_of(const std::string& ip_port) {
  const auto sa = udp::parse_ipv4_port(ip_port);
  return sa ? ntohl(sa->sin_addr.s_addr) : 0;
}

}  // namespace

Result<std::vector<PeerInfo>> connect_ranks(IbvQueues& queues, std::uint32_t rank,
                                            std::uint32_t ranks, const PeerInfo& mine,
                                            const OutOfBandAllgather& exchange) {
  auto blobs = exchange(encode_peer_info(mine));
  if (!blobs) return blobs.status();
  if (blobs->size() != ranks)
    return make_error(
        StatusCode::malformed_packet,
        fmt::format("the exchange returned {} entries for {} ranks", blobs->size(), ranks));
  std::vector<PeerInfo> all;
  for (std::uint32_t r = 0; r < ranks; ++r) {
    auto info = decode_peer_info((*blobs)[r], ranks);
    if (!info)
      return make_error(info.status().code(),
                        fmt::format("rank {}: {}", r, info.status().message()));
    all.push_back(std::move(*info));
  }
  for (std::uint32_t r = 0; r < ranks; ++r)
    if (r != rank)
      INCA_RETURN_IF_ERROR(
          queues.connect_peer(r, all[r].gid, all[r].rc_qpn[rank], all[r].rc_psn[rank]));
  return all;
}

Result<std::unique_ptr<VerbsRank>> VerbsRank::open(const udp::Bootstrap& b,
                                                   const protocol::EndpointConfig& endpoint,
                                                   OutOfBandAllgather exchange) {
  auto ports = discover_ports();
  if (!ports) return ports.status();
  PortSelection selection;
  if (!b.verbs_device.empty()) {
    auto s = parse_port_selection(b.verbs_device);
    if (!s) return s.status();
    selection = *s;
  }
  auto address = choose_roce_v2(*ports, selection, ipv4_of(b.peers.at(b.rank)));
  if (!address) return address.status();
  const Time timeout = static_cast<Time>(std::max(b.timeout_ms, 10000u)) * kPicosPerMilli;
  if (!exchange) {
    if (b.rendezvous.empty())
      return make_error(StatusCode::invalid_argument,
                        "INCA_RENDEZVOUS is not set and the program gave no out-of-band "
                        "exchange: start verbs ranks with `inca launch --fabric verbs` or "
                        "pass MPI's (docs/verbs.md)");
    exchange = rendezvous(b.rendezvous, b.rank, b.size, timeout);
  }
  const std::uint32_t slot_bytes = b.tree ? b.tree->slot_payload_bytes : 0;
  if (b.tree && wire::kHeaderBytes + slot_bytes > address->mtu)
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("a slot of {} bytes and the inca header do not fit one RoCEv2 "
                    "packet of the path MTU {} of {}: use --slot-bytes {} or less",
                    slot_bytes, address->mtu, address->device, address->mtu - wire::kHeaderBytes));

  std::unique_ptr<VerbsRank> rank(new VerbsRank());
  rank->boot_ = b;
  rank->exchange_ = std::move(exchange);
  auto queues = IbvQueues::open(*address, b.rank, b.size);
  if (!queues) return queues.status();
  rank->queues_ = std::move(*queues);
  VerbsDriverConfig config;
  config.endpoint = endpoint;
  config.ranks = b.size;
  config.switch_ring = {b.tree ? 2 * b.tree->slots + kSwitchRingSlack : kSwitchRingSlack,
                        static_cast<std::uint32_t>(wire::kHeaderBytes) + slot_bytes};
  config.peer_ring = {kPeerRingEntries,
                      static_cast<std::uint32_t>(wire::kHeaderBytes) + endpoint.p2p_payload_bytes};
  config.send_buffers = kSendBuffers;
  config.idle_timeout = static_cast<Time>(b.timeout_ms) * kPicosPerMilli;
  auto driver = VerbsRankDriver::create(config, *rank->queues_);
  if (!driver) return driver.status();
  rank->driver_ = std::move(*driver);

  if (b.tree) {
    auto control = manager::SwitchControlClient::connect(b.control);
    if (!control) return control.status();
    rank->control_.emplace(std::move(*control));
    wire::QpConnect q;
    q.job = b.job;
    q.port = b.switch_port;
    q.mac = address->mac;
    q.ipv4 = address->ipv4;
    q.qpn = rank->queues_->switch_qpn();
    q.psn = rank->queues_->switch_psn();
    q.mtu = static_cast<std::uint16_t>(address->mtu);
    q.ring_va = rank->driver_->switch_ring().va;
    q.ring_rkey = rank->driver_->switch_ring().rkey;
    q.ring_entries = config.switch_ring.entries;
    q.ring_entry_bytes = config.switch_ring.entry_bytes;
    auto sw = rank->control_->connect_qp(q);
    if (!sw) return sw.status();
    rank->switch_qpn_ = sw->qpn;
    INCA_RETURN_IF_ERROR(
        rank->queues_->connect_switch(ipv4_of(b.switch_address), sw->qpn, sw->psn));
  }

  PeerInfo mine;
  mine.gid = address->gid;
  mine.ipv4 = address->ipv4;
  mine.mtu = static_cast<std::uint16_t>(address->mtu);
  for (std::uint32_t r = 0; r < b.size; ++r) {
    mine.rc_qpn.push_back(rank->queues_->peer_qpn(r));
    mine.rc_psn.push_back(rank->queues_->peer_psn(r));
    mine.rings.push_back(rank->driver_->ring_for(r));
  }
  auto all = connect_ranks(*rank->queues_, b.rank, b.size, mine, rank->exchange_);
  if (!all) return all.status();
  std::vector<RemoteRing> peers;
  for (std::uint32_t r = 0; r < b.size; ++r) peers.push_back((*all)[r].rings[b.rank]);
  INCA_RETURN_IF_ERROR(rank->driver_->start(std::move(peers)));
  // Every rank has posted its receive requests before anyone writes.
  auto ready = rank->exchange_({});
  if (!ready) return ready.status();
  return rank;
}

VerbsRank::~VerbsRank() {
  if (control_ && switch_qpn_ != 0) (void)control_->disconnect_qp(switch_qpn_);
}

Result<std::unique_ptr<RcRing>> VerbsRank::open_rc_ring() {
  auto queues = IbvQueues::open(queues_->address(), boot_.rank, boot_.size);
  if (!queues) return queues.status();
  ring_queues_ = std::move(*queues);
  ring_cache_ = std::make_unique<RegistrationCache>(*ring_queues_);
  auto ring = std::make_unique<RcRing>(*ring_queues_, *ring_cache_, boot_.rank, boot_.size);
  auto mailbox = ring->mailbox();
  if (!mailbox) return mailbox.status();
  PeerInfo mine;
  mine.gid = address().gid;
  mine.ipv4 = address().ipv4;
  mine.mtu = static_cast<std::uint16_t>(address().mtu);
  for (std::uint32_t r = 0; r < boot_.size; ++r) {
    mine.rc_qpn.push_back(ring_queues_->peer_qpn(r));
    mine.rc_psn.push_back(ring_queues_->peer_psn(r));
    mine.rings.push_back({});
  }
  mine.mailbox = *mailbox;
  auto all = connect_ranks(*ring_queues_, boot_.rank, boot_.size, mine, exchange_);
  if (!all) return all.status();
  // This rank writes its descriptors into its left neighbour's mailbox.
  INCA_RETURN_IF_ERROR(ring->start((*all)[(boot_.rank + boot_.size - 1) % boot_.size].mailbox));
  auto ready = exchange_({});
  if (!ready) return ready.status();
  return ring;
}

}  // namespace inca::verbs
