// A packet's way through the simulated fabric: a host's NIC (send overhead,
// gap, which port), each link's FIFO (serialisation, segments pipelined), a
// node's stage (a switch's ALU, a host's receive path) and what the node does
// with it (the switch's engine, the host's endpoint). docs/model.md says what
// each step costs.
#include <algorithm>
#include <cmath>

#include "sim/sim_fabric.hpp"
#include "sim/sim_fabric_state.hpp"
#include "switch_forwarding.hpp"

namespace inca::sim {

bool SimFabric::takes_at_head(std::uint32_t node, const wire::Packet& packet) const {
  return nodes_[node].engine != nullptr ||
         (packet.header.type == wire::PacketType::result && !packet.header.has(wire::kFlagLast));
}

void SimFabric::enqueue(std::uint32_t node, std::uint16_t port, wire::Packet&& packet, Time offered,
                        Time tail) {
  // A FIFO egress queue is exactly "start when the port is next free".
  PortState& ps = nodes_[node].ports[port];
  const bool ack = packet.header.type == wire::PacketType::ack;
  fabric::LinkPacer& pacer = ps.pacer;
  auto& lane = ack ? ps.acks : ps.in_flight;
  const std::size_t bytes = packet.wire_bytes();
  const Time serialise = pacer.serialise(bytes);
  ps.counters.packets += packet.packets;
  ps.counters.bytes += bytes;
  ps.counters.busy += serialise;
  Time tx_end, head_end;
  if (ack) {
    tx_end = head_end = offered + serialise;
  } else if (packet.packets == 1 && tail <= offered) {
    tx_end = head_end = pacer.book(offered, bytes);
  } else {
    // A segment: its first packet leaves once it is ready and the link free,
    // the rest follow as they become ready (docs/model.md, segment mode).
    const Time start = std::max(offered, pacer.busy_until());
    tx_end = pacer.book_segment(offered, tail, bytes, packet.last_wire_bytes());
    head_end = packet.packets == 1 ? tx_end : start + pacer.serialise(packet.first_wire_bytes());
  }
  const Time arrival = tx_end + ps.latency;
  // Packet mode: head and tail are one (and the peer is not looked up).
  const Time handed =
      head_end != tx_end && takes_at_head(ps.peer_node, packet) ? head_end + ps.latency : arrival;
  if (trace_) trace_->link_send(node, port, offered, tx_end - serialise, tx_end, arrival, packet);
  if (faults_) {
    const FaultModel::Fate fate = faults_->on_send(node, port, offered, packet);
    if (fate.lost) {
      if (trace_) trace_->packet_lost(node, port, offered);
      return;
    }
    if (fate.duplicate)
      schedule(arrival + fate.duplicate_delay, kHeld, node, faults_->hold(wire::Packet(packet)),
               port);
    if (fate.extra_delay > 0) {
      // Off the FIFO: the packets behind it overtake it.
      schedule(arrival + fate.extra_delay, kHeld, node, faults_->hold(std::move(packet)), port);
      return;
    }
  }
  if (ack && !faults_ && !trace_) {
    // Acknowledgements are not paced among themselves (above), so where one
    // leaves each link is known when it is sent: book the whole path now, as
    // a switch would hop by hop, and spend one event on it instead of one
    // per link.
    const std::uint32_t to = ps.peer_node;
    if (nodes_[to].engine) {
      if (const auto next = fabric::forward_port(topology_, to, packet))
        enqueue(to, *next, std::move(packet), arrival, arrival);
      return;
    }
    schedule(arrival, kAck, node, parked_acks_.hold(std::move(packet)), port);
    return;
  }
  if (lane.empty()) schedule(handed, kArrival, node, ack ? 1 : 0, port);
  if (lane.full()) lane.set_capacity(2 * lane.capacity());
  lane.push_back({handed, arrival, std::move(packet)});
}

std::uint16_t SimFabric::host_egress(std::uint32_t rank, const wire::Packet& p) const {
  const NodeState& n = nodes_[topology_.host_node(rank)];
  if (n.ports.size() == 1) return 0;
  if (p.header.type == wire::PacketType::contribution)
    for (const auto& [tree, port] : n.tree_ports)
      if (tree == p.header.tree) return port;
  return topology_.route(topology_.host_node(rank), p.dst < topology_.host_count() ? p.dst : 0);
}

void SimFabric::transmit_from_host(std::uint32_t rank, protocol::Outbox& out) {
  const std::uint32_t node = topology_.host_node(rank);
  NodeState& n = nodes_[node];
  const HostTiming& timing = topology_.node(node).host_timing;
  const bool costs = timing.send_overhead > 0 || timing.gap > 0;
  for (wire::Packet& p : out) {
    // A message (a point-to-point message's first fragment, an in-network
    // operation's first contribution) is posted send_overhead after it was
    // sent; every message and every contribution leaves the NIC max(o, g)
    // or g after the previous one; the rest of a message's fragments follow
    // it and acknowledgements go as they come.
    const wire::PacketType type = p.header.type;
    const bool contribution = type == wire::PacketType::contribution;
    // A segment's contributions leave g apart, each once the result that
    // freed its slot is in (answer_tail_ for the last).
    const Time segment_gap = contribution ? (p.packets - 1) * timing.gap : 0;
    Time offered = now_;
    if (costs && (contribution || (type == wire::PacketType::p2p && p.header.sequence == 0))) {
      bool starts = !contribution;
      if (contribution) {
        // A contribution starts an operation unless its tree has one under way.
        auto it = std::find(n.trees_busy.begin(), n.trees_busy.end(), p.header.tree);
        starts = it == n.trees_busy.end();
        if (starts && !p.header.has(wire::kFlagLast)) n.trees_busy.push_back(p.header.tree);
        if (!starts && p.header.has(wire::kFlagLast)) n.trees_busy.erase(it);
      }
      const Time start = std::max(now_, n.tx_free);
      const Time overhead = starts ? timing.send_overhead : 0;
      n.tx_free = start + std::max(overhead, timing.gap) + segment_gap;
      n.last_posted = offered = start + overhead;
    } else if (type == wire::PacketType::p2p) {
      offered = std::max(now_, n.last_posted);
    }
    const std::uint16_t port = host_egress(rank, p);
    const Time tail = std::max(offered + segment_gap, answer_tail_);
    enqueue(node, port, std::move(p), offered, tail);
  }
  out.clear();
}

void SimFabric::stage(std::uint32_t node, Stage& st, std::uint16_t port, wire::Packet&& packet,
                      Time tail, const StageCost& cost) {
  const std::uint32_t k = packet.packets;
  Time done, done_tail;
  if (nodes_[node].engine) {
    // A switch's ALU takes the packets of all its children's segments as
    // they come, interleaved: first packets in turn, and the whole segment
    // once the ALU has done all the work offered so far and its last packet
    // is in. (One packet: a FIFO server, as in packet mode.)
    const Time first = std::max(now_, st.first_free);
    st.first_free = first + (k > 1 ? cost.hold : cost.last_hold);
    st.free_at = std::max(now_, st.free_at) + (k - 1) * cost.hold + cost.last_hold;
    done_tail = std::max(st.free_at, tail + cost.last_hold) - cost.last_hold + cost.last_delay;
    done = k > 1 ? first + cost.head_delay : done_tail;
  } else {
    // A host takes a segment's packets one by one as they arrive (now to tail).
    const Time start = std::max(now_, st.free_at);
    const Time last_start = std::max(start + (k - 1) * cost.hold, tail);
    st.free_at = last_start + cost.last_hold;
    done_tail = last_start + cost.last_delay;
    done = k > 1 && takes_at_head(node, packet) ? start + cost.head_delay : done_tail;
  }
  // Segment mode: hand-overs stay in order (packet mode keeps it anyway).
  if (!st.in_flight.empty()) done = std::max(done, st.in_flight.back().packet.at);
  if (st.in_flight.empty()) schedule(done, kStage, node, 0);
  if (st.in_flight.full()) st.in_flight.set_capacity(2 * st.in_flight.capacity());
  st.in_flight.push_back({{done, done_tail, std::move(packet)}, port});
}

void SimFabric::on_arrival(std::uint32_t node, std::uint16_t port, wire::Packet&& packet,
                           Time tail) {
  NodeState& n = nodes_[node];
  if (n.stage) {
    const topology::Node& spec = topology_.node(node);
    const wire::PacketType type = packet.header.type;
    if (n.engine && type == wire::PacketType::contribution) {
      // The ALU: each contribution in turn, then its pipeline latency.
      const Stage& alu = *n.stage;
      auto service = [&alu](std::size_t payload) {
        return std::max(
            static_cast<Time>(std::llround(alu.alu_ps_per_byte * static_cast<double>(payload))),
            alu.alu_ps_per_packet);
      };
      // An identity contribution is headers only: each packet costs the ALU's per-packet time.
      const bool empty = packet.payload_bytes() == 0;
      const std::size_t last_payload =
          empty ? 0
                : packet.payload_bytes() - std::size_t{packet.packets - 1u} * packet.packet_payload;
      const Time each = service(empty ? 0 : packet.packet_payload), last = service(last_payload);
      const Time latency = spec.switch_spec.aggregation_latency;
      stage(node, *n.stage, port, std::move(packet), tail,
            StageCost{each, last, each + latency, last + latency});
      return;
    }
    if (!n.engine) {
      // The receive path, in order: a message's end (the last fragment, an
      // operation's last result) costs recv_overhead and holds the path for
      // max(o, g); every other result holds it for g; the rest pass.
      const HostTiming& t = spec.host_timing;
      const bool ends = (type == wire::PacketType::result || type == wire::PacketType::p2p) &&
                        packet.header.has(wire::kFlagLast);
      const Time each = type == wire::PacketType::result ? t.gap : 0;
      const Time last = ends ? std::max(t.recv_overhead, t.gap) : each;
      const Time delay = ends ? t.recv_overhead : 0;
      // What costs nothing and finds the path empty is through it at once:
      // handing it over now saves an event per acknowledgement and fragment.
      if (last == 0 && delay == 0 && packet.packets == 1 && tail <= now_ &&
          n.stage->in_flight.empty() && n.stage->free_at <= now_) {
        handle(node, port, std::move(packet), tail);
        return;
      }
      stage(node, *n.stage, port, std::move(packet), tail, StageCost{each, last, 0, delay});
      return;
    }
  }
  handle(node, port, std::move(packet), tail);
}

void SimFabric::handle(std::uint32_t node, std::uint16_t port, wire::Packet&& packet, Time tail) {
  NodeState& n = nodes_[node];
  if (n.engine) {
    if (!switch_ready(node)) return;
    // Segment mode: what the engine sends for this chunk is whole once the
    // last packet of every contribution to it is in.
    const std::uint16_t k = packet.packets, per_packet = packet.packet_payload;
    if (k > 1 && packet.header.type == wire::PacketType::contribution) {
      const wire::Header& h = packet.header;
      Time& latest = n.segment_tails[(std::uint64_t{h.job} << 32) ^ (std::uint64_t{h.tree} << 16) ^
                                     (std::uint64_t{h.slot} << 1) ^ (h.shadow ? 1u : 0u)];
      tail = latest = std::max(latest, tail);
    }
    emits_.clear();
    fabric::switch_packet(*n.engine, topology_, node, port, std::move(packet), emits_);
    if (trace_) trace_->switch_touched(node, now_);
    for (engine::Emit& e : emits_) {
      const wire::PacketType type = e.packet.header.type;
      if (type == wire::PacketType::contribution || type == wire::PacketType::result) {
        e.packet.packets = k;
        e.packet.packet_payload = per_packet;
      }
      enqueue(node, e.port, std::move(e.packet), now_, std::max(now_, tail));
    }
    return;
  }
  RankDriver& r = *ranks_[n.rank];
  answer_tail_ = tail;
  r.endpoint().on_packet(packet, now_, outbox_);
  if (trace_) trace_->host_touched(n.rank, now_);
  transmit_from_host(n.rank, outbox_);
  answer_tail_ = 0;
  after_host_activity(n.rank);
}

std::uint32_t SimFabric::deliver(std::uint32_t node, std::uint16_t port, wire::Packet&& packet,
                                 Time tail) {
  const PortState& link = nodes_[node].ports[port];
  const std::uint32_t to = link.peer_node;
  if (faults_ && !faults_->on_arrival(node, port, to, now_)) {
    if (trace_) trace_->packet_lost(node, port, now_);
    return kNoRank;
  }
  on_arrival(to, link.peer_port, std::move(packet), tail);
  return nodes_[to].engine ? kNoRank : nodes_[to].rank;
}

}  // namespace inca::sim
