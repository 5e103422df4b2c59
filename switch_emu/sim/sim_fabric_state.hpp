// The simulator's private state: what a link, a node's stage, a node and a
// rank's fiber hold while a run is under way. Shared by sim_fabric.cpp (set-up,
// the event loop) and sim_packet_path.cpp (a packet's way from NIC to NIC);
// nothing outside those two includes it.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/circular_buffer.hpp>

#include "link_pacer.hpp"
#include "runtime/fiber_switch.hpp"
#include "sim/sim_fabric.hpp"

namespace inca::sim {

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
    fiber_.create(stack_bytes, [this, &main](boost::context::fiber&& scheduler) {
      fiber_.enter_fiber(std::move(scheduler));
      error_ = fabric::run_rank_main(main, rank_, *this);
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

}  // namespace inca::sim
