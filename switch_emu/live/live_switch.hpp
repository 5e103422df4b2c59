// A switch of the live fabric: one thread that takes arrived packets from its
// ports' rings, runs the aggregation engine on contributions and results,
// forwards everything else by the routing table (fabric::switch_packet, as in
// the simulator), and applies control-plane changes between packets so the
// engine is only ever touched by one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <utility>
#include <vector>

#include "engine/aggregation_node.hpp"
#include "inca/status.hpp"
#include "live/live_node.hpp"
#include "topology/topology.hpp"
#include "trace/trace_sink.hpp"

namespace inca::live {

class LiveSwitch {
 public:
  /// A control-plane change (install, remove) applied to the engine.
  using Control = std::function<Status(engine::AggregationNode&)>;

  LiveSwitch(std::uint32_t node, const topology::Topology& topology, LiveNode& io,
             engine::SwitchConfig config);

  /// Applies `control` at once; only while no switch thread runs.
  Status apply(const Control& control) { return control(engine_); }
  /// Queues `control` for the running switch thread.
  std::future<Status> post(Control control);
  /// Applies every queued control on the calling thread.
  void drain_controls();

  /// The switch thread's body: runs until `stop` holds.
  void run(const std::atomic<bool>& stop);

  /// Stable while no switch thread runs.
  const engine::AggregationNode& engine() const { return engine_; }
  /// Where the switch's activity is recorded; set between runs.
  void set_trace(trace::TraceSink* sink) { trace_ = sink; }

 private:
  void handle(std::uint16_t in_port, wire::Packet& packet, Time at);

  std::uint32_t node_;
  const topology::Topology& topology_;
  LiveNode& io_;
  engine::AggregationNode engine_;
  std::vector<engine::Emit> emits_;  // scratch
  std::mutex controls_mutex_;
  std::vector<std::pair<Control, std::promise<Status>>> controls_;
  std::atomic<bool> has_controls_{false};
  trace::TraceSink* trace_ = nullptr;
};

}  // namespace inca::live
