#include "sim/sim_fabric.hpp"

#include "sim/fiber_switch.hpp"

#include <cmath>
#include <deque>

#include <fmt/format.h>

namespace inca::sim {

namespace ctx = boost::context;

struct SimFabric::PortState {
  // Packets on the link, in arrival order: with FIFO serialisation and a
  // fixed latency, arrivals on one link are ordered, so only the head needs
  // an event (the event heap holds links, not packets).
  std::deque<std::pair<Time, wire::Packet>> in_flight;
  Time busy_until = 0;
  Time ps_per_byte_x1024 = 0;  // serialisation cost in 1/1024 ps per byte
  Time latency = 0;
  std::uint32_t peer_node = 0;
  std::uint16_t peer_port = 0;
  PortCounters counters;
};

struct SimFabric::NodeState {
  std::vector<PortState> ports;
  std::unique_ptr<engine::AggregationNode> engine;  // switches
  std::uint32_t rank = 0;                           // hosts
};

// A rank: its endpoint, its fiber, and what it waits for.
class SimFabric::RankDriver final : public protocol::HostDriver {
 public:
  RankDriver(SimFabric& fabric, std::uint32_t rank, std::uint32_t node,
             protocol::EndpointConfig config)
      : fabric_(fabric), rank_(rank), node_(node), endpoint_(std::move(config)) {}

  Time now() const override { return fabric_.now_; }
  protocol::HostEndpoint& endpoint() override { return endpoint_; }
  void transmit(protocol::Outbox& out) override { fabric_.transmit_from_host(rank_, out); }

  bool block_until(const std::function<bool()>& ready, Time deadline) override {
    if (ready()) return true;
    if (deadline <= fabric_.now_) return false;
    ready_ = &ready;
    deadline_ = deadline;
    timed_out_ = false;
    if (deadline != kNever) fabric_.schedule(deadline, kWake, node_, rank_);
    yield();
    ready_ = nullptr;
    return ready();
  }

  void account_compute(std::size_t bytes) override {
    const double gbps = fabric_.config_.host_reduce_gbps;
    if (gbps <= 0 || bytes == 0) return;
    const Time until = fabric_.now_ + static_cast<Time>(std::llround(bytes * 8000.0 / gbps));
    static const std::function<bool()> never = [] { return false; };
    block_until(never, until);
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
  Time timer_at = kNever;

 private:
  void yield() { fiber_.yield(); }

  SimFabric& fabric_;
  std::uint32_t rank_;
  std::uint32_t node_;
  protocol::HostEndpoint endpoint_;
  FiberSwitch fiber_;
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
  std::vector<wire::Address> addresses(topology_.host_count());
  for (std::uint32_t h = 0; h < topology_.host_count(); ++h) addresses[h] = h;
  for (std::uint32_t id = 0; id < nodes.size(); ++id) {
    const topology::Node& n = nodes[id];
    NodeState& state = nodes_[id];
    for (const topology::Port& p : n.ports) {
      PortState ps;
      ps.ps_per_byte_x1024 = static_cast<Time>(std::llround(8000.0 * 1024 / p.link.gbps));
      ps.latency = p.link.latency;
      ps.peer_node = p.peer_node;
      ps.peer_port = p.peer_port;
      state.ports.push_back(ps);
    }
    if (n.kind == topology::NodeKind::switch_node) {
      state.engine = std::make_unique<engine::AggregationNode>(
          engine::SwitchConfig{n.switch_spec.slots, n.switch_spec.slot_payload_bytes});
    } else {
      state.rank = n.host_index;
      protocol::EndpointConfig ec = config_.endpoint;
      ec.rank = n.host_index;
      ec.address = n.host_index;
      ec.rank_address = addresses;
      ranks_.push_back(std::make_unique<RankDriver>(*this, n.host_index, id, std::move(ec)));
    }
  }
}

SimFabric::~SimFabric() = default;

Status SimFabric::install(std::uint32_t switch_node, const wire::TreeInstall& tree) {
  if (switch_node >= nodes_.size() || !nodes_[switch_node].engine)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("node {} is no switch", switch_node));
  return nodes_[switch_node].engine->install(tree);
}

Status SimFabric::remove(std::uint32_t switch_node, const wire::TreeRemove& tree) {
  if (switch_node >= nodes_.size() || !nodes_[switch_node].engine)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("node {} is no switch", switch_node));
  return nodes_[switch_node].engine->remove(tree);
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

void SimFabric::enqueue(std::uint32_t node, std::uint16_t port, wire::Packet&& packet) {
  // A FIFO egress queue is exactly "start when the port is next free".
  PortState& ps = nodes_[node].ports[port];
  const Time serialise =
      (static_cast<Time>(packet.wire_bytes()) * ps.ps_per_byte_x1024 + 512) / 1024;
  const Time start = std::max(now_, ps.busy_until);
  ps.busy_until = start + serialise;
  ps.counters.packets++;
  ps.counters.bytes += packet.wire_bytes();
  ps.counters.busy += serialise;
  const Time arrival = ps.busy_until + ps.latency;
  if (ps.in_flight.empty()) schedule(arrival, kArrival, node, 0, port);
  ps.in_flight.emplace_back(arrival, std::move(packet));
}

void SimFabric::transmit_from_host(std::uint32_t rank, protocol::Outbox& out) {
  const std::uint32_t node = topology_.host_node(rank);
  for (wire::Packet& p : out) enqueue(node, 0, std::move(p));
  out.clear();
}

void SimFabric::after_host_activity(std::uint32_t rank) {
  RankDriver& r = *ranks_[rank];
  const Time next = r.endpoint().next_deadline();
  if (next != kNever && next < r.timer_at) {
    r.timer_at = next;
    schedule(next, kTimer, topology_.host_node(rank), rank);
  }
}

void SimFabric::on_arrival(std::uint32_t node, std::uint16_t port, wire::Packet&& packet) {
  NodeState& n = nodes_[node];
  if (n.engine) {
    const auto type = packet.header.type;
    if (type == wire::PacketType::contribution || type == wire::PacketType::result) {
      emits_.clear();
      n.engine->on_packet(port, packet, emits_);
      for (engine::Emit& e : emits_) enqueue(node, e.port, std::move(e.packet));
    } else if (packet.dst < topology_.host_count()) {
      enqueue(node, topology_.route(node, packet.dst), std::move(packet));
    }
    return;
  }
  RankDriver& r = *ranks_[n.rank];
  r.endpoint().on_packet(packet, now_, outbox_);
  transmit_from_host(n.rank, outbox_);
  after_host_activity(n.rank);
}

std::uint32_t SimFabric::process(const Event& ev) {
  switch (ev.kind) {
    case kArrival: {
      PortState& link = nodes_[ev.node].ports[ev.port];
      wire::Packet p = std::move(link.in_flight.front().second);
      link.in_flight.pop_front();
      if (link.in_flight.empty())
        events_queue_.pop();
      else
        events_queue_.replace_top(link.in_flight.front().first, ev);
      const std::uint32_t to = link.peer_node;
      on_arrival(to, link.peer_port, std::move(p));
      return nodes_[to].engine ? kNoRank : nodes_[to].rank;
    }
    case kTimer: {
      events_queue_.pop();
      RankDriver& r = *ranks_[ev.arg];
      if (r.timer_at != now_) return kNoRank;  // superseded by an earlier timer
      r.timer_at = kNever;
      r.endpoint().on_timer(now_, outbox_);
      transmit_from_host(ev.arg, outbox_);
      after_host_activity(ev.arg);
      return ev.arg;
    }
    case kWake: {
      events_queue_.pop();
      RankDriver& r = *ranks_[ev.arg];
      if (r.waiting() && r.deadline() == now_) r.time_out();
      return ev.arg;
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
    ++events_;
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
