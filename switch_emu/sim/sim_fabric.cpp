#include "sim/sim_fabric.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "host_config.hpp"
#include "sim/sim_fabric_state.hpp"

namespace inca::sim {

SimFabric::SimFabric(const topology::Topology& topology, SimConfig config)
    : topology_(topology), config_(std::move(config)) {
  // One table of every host's address, which all the hosts' endpoints share.
  config_.endpoint.rank_address = fabric::host_addresses(topology_);
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

void SimFabric::after_host_activity(std::uint32_t rank) {
  arm_timer(rank, ranks_[rank]->endpoint().next_deadline());
}

void SimFabric::arm_timer(std::uint32_t rank, Time next) {
  if (next != kNever && ranks_[rank]->timers.claim(next))
    schedule(next, kTimer, topology_.host_node(rank), rank);
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
