#include "sim/sim_fabric.hpp"

#include "runtime/fiber_switch.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <fmt/format.h>
#include <boost/circular_buffer.hpp>

#include "host_config.hpp"
#include "link_pacer.hpp"
#include "switch_forwarding.hpp"

namespace inca::sim {

namespace ctx = boost::context;

// A packet on a link or in a stage: `at` is when it is handed on (its
// event), `tail` when the last wire packet of its segment is there (= at in
// packet mode).
struct SimFabric::InFlight {
  Time at;
  Time tail;
  wire::Packet packet;
};

struct SimFabric::PortState {
  // Packets on the link, in arrival order: with FIFO serialisation and a
  // fixed latency, arrivals on one link are ordered, so only the head needs
  // an event (the event heap holds links, not packets). A growing ring, so
  // the packets a link carries recycle its memory instead of allocating and
  // freeing deque blocks as they pass.
  boost::circular_buffer<InFlight> in_flight{16};
  fabric::LinkPacer pacer{1.0};  // replaced by the link's rate
  // Acknowledgements do not queue behind data: a NIC's transport answers at
  // once, between the packets of the messages it is sending. Nor behind each
  // other: each crosses a link in its own serialisation time (an
  // acknowledgement is under 2% of the bytes of the message it answers; two
  // that meet on a link overlap, which moved one of scripts/segment_error.py's
  // 115 times, by 0.01 us). Their lane is for runs with faults or a trace,
  // which follow them link by link; otherwise enqueue() books each one's
  // whole path when it is sent.
  boost::circular_buffer<InFlight> acks{4};
  Time latency = 0;
  std::uint32_t peer_node = 0;
  std::uint16_t peer_port = 0;
  PortCounters counters;
};

// A FIFO server inside a node: a switch's ALU, a host's receive path. Each
// packet occupies it for its occupancy and comes out `delay` after it started;
// delivery times never decrease, so only the head needs an event.
struct SimFabric::Stage {
  struct Entry {
    InFlight packet;
    std::uint16_t port;  // where the packet came in
  };
  boost::circular_buffer<Entry> in_flight{16};
  Time free_at = 0;
  Time first_free = 0;         // switches in segment mode: when the next first packet may start
  double alu_ps_per_byte = 0;  // ALU: payload rate; 0 unlimited
  Time alu_ps_per_packet = 0;  // ALU: packet rate; 0 unlimited
};

// What a stage costs a segment of k packets: the first k - 1 each hold it
// for `hold`, the last for `last_hold`; the first comes out `head_delay`
// after it started, the last `last_delay` after it started. One packet:
// it holds the stage for last_hold and comes out after last_delay.
struct SimFabric::StageCost {
  Time hold = 0;
  Time last_hold = 0;
  Time head_delay = 0;
  Time last_delay = 0;
};

struct SimFabric::NodeState {
  std::vector<PortState> ports;
  std::unique_ptr<engine::AggregationNode> engine;  // switches
  std::uint32_t rank = 0;                           // hosts
  // A switch with ALU timing; a host with receive overhead or gap.
  std::unique_ptr<Stage> stage;
  // Hosts: when the next message may start, when the last one was posted,
  // the trees with an in-network operation under way.
  Time tx_free = 0;
  Time last_posted = 0;
  std::vector<std::uint16_t> trees_busy;
  std::vector<std::pair<std::uint16_t, std::uint16_t>> tree_ports;  // (tree, port), several ports
  // Segment mode, switches: per (job, tree, slot, shadow set) the latest tail
  // of the contributions in it, which the chunk's partial or result inherits.
  // Never erased: a slot's next chunk has later tails.
  std::unordered_map<std::uint64_t, Time> segment_tails;
};

// The times of one rank's pending events of one kind (timers, wake-ups). An
// event is scheduled only when none pending comes by the time asked for, and
// one that comes early moves on to what is asked for then. An event per
// request would leave one behind whenever an earlier request came in (a
// reduction's short wait under a collective's 150 ms deadline, a
// retransmission timer under a later one): a 1,152-rank ring of 1 GiB on the
// gb300 fabric left 5.3 M stale wake-ups in the event heap (two per step per
// rank; 320 MB, and every sift 22 levels deep).
namespace {
class PendingTimes {
 public:
  /// True, and `t` noted as pending, when no pending event comes by `t`: the
  /// caller then schedules one at `t`.
  bool claim(Time t) {
    if (std::any_of(times_.begin(), times_.end(), [t](Time at) { return at <= t; })) return false;
    times_.push_back(t);
    return true;
  }
  void fired(Time t) {
    if (auto it = std::find(times_.begin(), times_.end(), t); it != times_.end()) times_.erase(it);
  }

 private:
  std::vector<Time> times_;  // a few: each one added comes before all the others
};
}  // namespace

// A rank: its endpoint, its fiber, and what it waits for.
class SimFabric::RankDriver final : public protocol::HostDriver {
 public:
  RankDriver(SimFabric& fabric, std::uint32_t rank, std::uint32_t node,
             protocol::EndpointConfig config)
      : fabric_(fabric), rank_(rank), node_(node), endpoint_(std::move(config)) {}

  Time now() const override { return fabric_.now_; }
  protocol::HostEndpoint& endpoint() override { return endpoint_; }
  void transmit(protocol::Outbox& out) override {
    fabric_.transmit_from_host(rank_, out);
    // What the rank sent may have armed retransmission timers.
    fabric_.after_host_activity(rank_);
  }

  bool block_until(const std::function<bool()>& ready, Time deadline) override {
    if (ready()) return true;
    if (deadline <= fabric_.now_) return false;
    ready_ = &ready;
    deadline_ = deadline;
    timed_out_ = false;
    if (deadline != kNever && wakes.claim(deadline))
      fabric_.schedule(deadline, kWake, node_, rank_);
    yield();
    ready_ = nullptr;
    return ready();
  }

  trace::TraceSink* trace() const override { return fabric_.trace_; }

  Time compute_time(std::size_t bytes) const override {
    const double gbps = fabric_.topology_.node(node_).host_timing.reduce_gbps;
    if (gbps <= 0) return 0;
    return static_cast<Time>(std::llround(bytes * 8000.0 / gbps));
  }

  // Scheduler side.
  void start(const RankMain& main, std::size_t stack_bytes) {
    finished_ = false;
    error_.clear();
    fiber_.create(stack_bytes, [this, &main](ctx::fiber&& scheduler) {
      fiber_.enter_fiber(std::move(scheduler));
      try {
        main(rank_, *this);
      } catch (const std::exception& e) {
        error_ = e.what();
      } catch (...) {
        error_ = "unknown exception";
      }
      finished_ = true;
      return fiber_.finish_fiber();
    });
  }
  void resume() { fiber_.resume(); }
  bool waiting() const { return ready_ != nullptr; }
  bool wakeable() const { return ready_ != nullptr && (*ready_)(); }
  void time_out() { timed_out_ = true; }
  bool timed_out() const { return timed_out_; }
  Time deadline() const { return deadline_; }
  bool finished() const { return finished_; }
  const std::string& error() const { return error_; }
  PendingTimes timers;  // this rank's kTimer events
  PendingTimes wakes;   // this rank's kWake events

 private:
  void yield() { fiber_.yield(); }

  SimFabric& fabric_;
  std::uint32_t rank_;
  std::uint32_t node_;
  protocol::HostEndpoint endpoint_;
  runtime::FiberSwitch fiber_;
  const std::function<bool()>* ready_ = nullptr;
  Time deadline_ = kNever;
  bool timed_out_ = false;
  bool finished_ = true;
  std::string error_;
};

SimFabric::SimFabric(const topology::Topology& topology, SimConfig config)
    : topology_(topology), config_(std::move(config)) {
  const auto& nodes = topology_.nodes();
  nodes_.resize(nodes.size());
  for (std::uint32_t id = 0; id < nodes.size(); ++id) {
    const topology::Node& n = nodes[id];
    NodeState& state = nodes_[id];
    const bool is_switch = n.kind == topology::NodeKind::switch_node;
    for (const topology::Port& p : n.ports) {
      PortState ps;
      ps.pacer = fabric::LinkPacer(p.link.gbps);
      // A switch's forwarding latency is the same for every packet it sends,
      // so adding it after the FIFO equals adding it before.
      ps.latency = p.link.latency + (is_switch ? n.switch_spec.forwarding_latency : 0);
      ps.peer_node = p.peer_node;
      ps.peer_port = p.peer_port;
      state.ports.push_back(ps);
    }
    if (is_switch) {
      const topology::SwitchSpec& sw = n.switch_spec;
      // Segment mode: a slot holds a segment's payload.
      state.engine = std::make_unique<engine::AggregationNode>(engine::SwitchConfig{
          sw.slots, sw.slot_payload_bytes * std::max<std::uint32_t>(1, config_.segment_packets),
          n.name, sw.caps});
      if (sw.aggregation_gbps > 0 || sw.aggregation_pps > 0 || sw.aggregation_latency > 0) {
        state.stage = std::make_unique<Stage>();
        if (sw.aggregation_gbps > 0) state.stage->alu_ps_per_byte = 8000.0 / sw.aggregation_gbps;
        if (sw.aggregation_pps > 0)
          state.stage->alu_ps_per_packet =
              static_cast<Time>(std::llround(1e12 / sw.aggregation_pps));
      }
    } else {
      if (n.host_timing.recv_overhead > 0 || n.host_timing.gap > 0)
        state.stage = std::make_unique<Stage>();
      state.rank = n.host_index;
      ranks_.push_back(std::make_unique<RankDriver>(
          *this, n.host_index, id,
          fabric::host_endpoint_config(config_.endpoint, topology_, n.host_index)));
    }
  }
}

SimFabric::~SimFabric() = default;

Status SimFabric::install(std::uint32_t switch_node, const wire::TreeInstall& tree) {
  if (switch_node >= nodes_.size() || !nodes_[switch_node].engine)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("node {} is no switch", switch_node));
  if (!switch_ready(switch_node))
    return make_error(StatusCode::io_error,
                      fmt::format("switch {} is down", topology_.node(switch_node).name));
  if (config_.segment_packets <= 1) return nodes_[switch_node].engine->install(tree);
  wire::TreeInstall segments = tree;
  segments.slot_payload_bytes *= config_.segment_packets;
  return nodes_[switch_node].engine->install(segments);
}

Status SimFabric::remove(std::uint32_t switch_node, const wire::TreeRemove& tree) {
  if (switch_node >= nodes_.size() || !nodes_[switch_node].engine)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("node {} is no switch", switch_node));
  if (!switch_ready(switch_node))
    return make_error(StatusCode::io_error,
                      fmt::format("switch {} is down", topology_.node(switch_node).name));
  return nodes_[switch_node].engine->remove(tree);
}

void SimFabric::attach(std::uint32_t host, std::uint16_t tree, std::uint16_t port) {
  if (host >= topology_.host_count()) return;
  NodeState& n = nodes_[topology_.host_node(host)];
  if (n.ports.size() < 2) return;  // one port: nothing to choose
  std::erase_if(n.tree_ports, [&](const auto& tp) { return tp.first == tree; });
  n.tree_ports.emplace_back(tree, port);
}

Status SimFabric::set_faults(const FaultPlan& plan) {
  if (plan.empty() && !faults_) return {};
  auto model = FaultModel::create(topology_, plan);
  if (!model.ok()) return model.status();
  // Packets held back under the old plan still arrive.
  if (faults_) (*model)->take_held(std::move(*faults_));
  faults_ = std::move(*model);
  deaths_seen_.assign(nodes_.size(), 0);
  return {};
}

FaultCounters SimFabric::fault_counters() const {
  return faults_ ? faults_->counters() : FaultCounters{};
}

bool SimFabric::node_alive(std::uint32_t node) const {
  return !faults_ || node >= nodes_.size() || faults_->node_up(node, now_);
}

bool SimFabric::link_alive(std::uint32_t node, std::uint16_t port) const {
  return !faults_ || node >= nodes_.size() || port >= nodes_[node].ports.size() ||
         faults_->link_up(node, port, now_);
}

bool SimFabric::switch_ready(std::uint32_t node) {
  if (!faults_) return true;
  if (!faults_->node_up(node, now_)) return false;
  const std::uint32_t deaths = faults_->deaths(node, now_);
  if (deaths != deaths_seen_[node]) {
    // It died since we last looked: it restarts with no trees and no slots.
    deaths_seen_[node] = deaths;
    *nodes_[node].engine = engine::AggregationNode(nodes_[node].engine->config());
    faults_->count_state_loss();
    if (trace_) trace_->switch_restarted(node, now_);
  }
  return true;
}

protocol::HostEndpoint& SimFabric::endpoint(std::uint32_t rank) {
  return ranks_.at(rank)->endpoint();
}

const engine::AggregationNode* SimFabric::engine(std::uint32_t switch_node) const {
  return switch_node < nodes_.size() ? nodes_[switch_node].engine.get() : nullptr;
}

const engine::EngineCounters* SimFabric::switch_counters(std::uint32_t node) const {
  const engine::AggregationNode* e = engine(node);
  return e ? &e->counters() : nullptr;
}

const PortCounters& SimFabric::port_counters(std::uint32_t node, std::uint16_t port) const {
  return nodes_.at(node).ports.at(port).counters;
}

void SimFabric::schedule(Time t, Kind kind, std::uint32_t node, std::uint32_t arg,
                         std::uint16_t port) {
  events_queue_.push(t, Event{kind, port, node, arg});
}

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

void SimFabric::after_host_activity(std::uint32_t rank) {
  arm_timer(rank, ranks_[rank]->endpoint().next_deadline());
}

void SimFabric::arm_timer(std::uint32_t rank, Time next) {
  if (next != kNever && ranks_[rank]->timers.claim(next))
    schedule(next, kTimer, topology_.host_node(rank), rank);
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
      const std::size_t last_payload =
          packet.payload_bytes() - std::size_t{packet.packets - 1u} * packet.packet_payload;
      const Time each = service(packet.packet_payload), last = service(last_payload);
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

std::uint32_t SimFabric::process(const Event& ev) {
  switch (ev.kind) {
    case kArrival: {
      PortState& link = nodes_[ev.node].ports[ev.port];
      auto& lane = ev.arg ? link.acks : link.in_flight;  // arg 1: the acknowledgement lane
      wire::Packet p = std::move(lane.front().packet);
      const Time tail = lane.front().tail;
      lane.pop_front();
      if (lane.empty())
        events_queue_.pop();
      else
        events_queue_.replace_top(lane.front().at, ev);
      return deliver(ev.node, ev.port, std::move(p), tail);
    }
    case kAck: {
      events_queue_.pop();
      return deliver(ev.node, ev.port, parked_acks_.release(ev.arg), now_);
    }
    case kHeld: {
      events_queue_.pop();
      return deliver(ev.node, ev.port, faults_->release(ev.arg), now_);
    }
    case kTimer: {
      events_queue_.pop();
      RankDriver& r = *ranks_[ev.arg];
      r.timers.fired(now_);
      if (const Time next = r.endpoint().next_deadline(); next > now_) {
        arm_timer(ev.arg, next);  // came early: its deadline was answered
        return kNoRank;
      }
      r.endpoint().on_timer(now_, outbox_);
      if (trace_) trace_->host_touched(ev.arg, now_);
      transmit_from_host(ev.arg, outbox_);
      after_host_activity(ev.arg);
      return ev.arg;
    }
    case kWake: {
      events_queue_.pop();
      RankDriver& r = *ranks_[ev.arg];
      r.wakes.fired(now_);
      // The wait under way may have begun after the one this wake was for.
      if (r.waiting() && r.deadline() > now_ && r.deadline() != kNever &&
          r.wakes.claim(r.deadline()))
        schedule(r.deadline(), kWake, ev.node, ev.arg);
      if (r.waiting() && r.deadline() == now_) r.time_out();
      return ev.arg;
    }
    case kStage: {
      NodeState& n = nodes_[ev.node];
      Stage& st = *n.stage;
      Stage::Entry e = std::move(st.in_flight.front());
      st.in_flight.pop_front();
      if (st.in_flight.empty())
        events_queue_.pop();
      else
        events_queue_.replace_top(st.in_flight.front().packet.at, ev);
      handle(ev.node, e.port, std::move(e.packet.packet), e.packet.tail);
      return n.engine ? kNoRank : n.rank;
    }
  }
  return kNoRank;
}

Status SimFabric::run(const RankMain& main) {
  const std::uint32_t n = static_cast<std::uint32_t>(ranks_.size());
  std::vector<std::uint32_t> runnable;
  for (std::uint32_t r = 0; r < n; ++r) {
    ranks_[r]->start(main, config_.fiber_stack_bytes);
    runnable.push_back(r);
  }
  std::uint32_t finished = 0;
  next_progress_ = config_.progress_events != 0 && config_.on_progress
                       ? events_ + config_.progress_events
                       : ~std::uint64_t{0};
  while (true) {
    for (std::uint32_t r : runnable) {
      ranks_[r]->resume();
      if (ranks_[r]->finished()) ++finished;
    }
    runnable.clear();
    if (finished == n) break;
    if (events_queue_.empty()) {
      // Nothing in flight and every live rank blocked: no progress is possible.
      for (std::uint32_t r = 0; r < n; ++r) {
        if (ranks_[r]->finished() || !ranks_[r]->waiting()) continue;
        ranks_[r]->time_out();
        runnable.push_back(r);
      }
      continue;
    }
    const Event ev = events_queue_.top().payload;
    now_ = events_queue_.top().time();
    if (++events_ == next_progress_) {
      next_progress_ += config_.progress_events;
      config_.on_progress(events_, now_);
    }
    // Wake the rank of the host the event touched, if its wait is over.
    const std::uint32_t rank = process(ev);
    if (rank == kNoRank) continue;
    RankDriver& r = *ranks_[rank];
    if (!r.finished() && r.waiting() && (r.timed_out() || r.wakeable())) runnable.push_back(rank);
  }
  std::string errors;
  for (std::uint32_t r = 0; r < n; ++r)
    if (!ranks_[r]->error().empty()) errors += fmt::format("rank {}: {}; ", r, ranks_[r]->error());
  if (!errors.empty()) return make_error(StatusCode::internal, "rank program threw: " + errors);
  return {};
}

}  // namespace inca::sim
