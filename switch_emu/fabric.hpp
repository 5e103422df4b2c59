// The interface every fabric implements (sim, live, and the drivers of real
// switches): apply the manager's control messages, run a rank program on
// every rank, and expose counters. The runtime talks to fabrics only here.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <string>

#include "engine/aggregation_node.hpp"
#include "inca/faults.hpp"
#include "inca/status.hpp"
#include "inca/time.hpp"
#include "protocol/host_driver.hpp"
#include "trace/trace_sink.hpp"
#include "wire/control.hpp"

namespace inca::fabric {

/// The rank program: runs on every rank, blocking through its driver.
using RankMain = std::function<void(std::uint32_t rank, protocol::HostDriver& driver)>;

/// Runs a rank program; returns what it threw ("" when it returned), so that
/// a rank's exception becomes the run's error instead of escaping a fiber or
/// a thread.
inline std::string run_rank_main(const RankMain& main, std::uint32_t rank,
                                 protocol::HostDriver& driver) {
  try {
    main(rank, driver);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
  return {};
}

class Fabric {
 public:
  virtual ~Fabric() = default;

  /// Control plane: installs / removes a tree on a switch node of the topology.
  virtual Status install(std::uint32_t switch_node, const wire::TreeInstall& tree) = 0;
  virtual Status remove(std::uint32_t switch_node, const wire::TreeRemove& tree) = 0;

  /// Runs `main` on every rank until all return; fails when a rank threw.
  virtual Status run(const RankMain& main) = 0;

  /// The fabric's clock: virtual time, or wall-clock time since creation.
  virtual Time now() const = 0;
  /// The NIC port host `host` sends tree `tree`'s contributions from (a
  /// host with several ports; the manager's HostAttachment::host_port).
  virtual void attach(std::uint32_t host, std::uint16_t tree, std::uint16_t port) {
    (void)host;
    (void)tree;
    (void)port;
  }
  /// A rank's protocol state (for its counters).
  virtual protocol::HostEndpoint& endpoint(std::uint32_t rank) = 0;
  /// Counters of the engine of a switch node; nullptr for other nodes.
  virtual const engine::EngineCounters* switch_counters(std::uint32_t node) const = 0;
  /// The engine of a switch node (nullptr for other nodes, or where the
  /// engine runs in another process); on threaded fabrics, read it from the
  /// switch's own thread or between runs.
  virtual const engine::AggregationNode* engine(std::uint32_t node) const {
    (void)node;
    return nullptr;
  }
  /// Discrete events processed (0 for fabrics without events).
  virtual std::uint64_t events_processed() const { return 0; }

  /// Fault injection (docs/reliability.md). Fabrics that cannot inject faults
  /// accept only an empty plan.
  virtual Status set_faults(const FaultPlan& plan) {
    if (plan.empty()) return {};
    return make_error(StatusCode::not_supported, "this fabric cannot inject faults");
  }
  virtual FaultCounters fault_counters() const { return {}; }
  /// Liveness, as the manager learns it when it re-forms a tree: whether a
  /// switch node is up, and whether the link out of (node, port) is up now.
  virtual bool node_alive(std::uint32_t node) const {
    (void)node;
    return true;
  }
  virtual bool link_alive(std::uint32_t node, std::uint16_t port) const {
    (void)node;
    (void)port;
    return true;
  }

  /// Records the run's timeline into `sink` (docs/tracing.md); nullptr
  /// stops. Set between runs. Fabrics without tracing hooks record nothing
  /// of their links and switches, but ranks still record their spans.
  virtual void set_trace(trace::TraceSink* sink) { trace_ = sink; }
  trace::TraceSink* trace() const { return trace_; }

 protected:
  trace::TraceSink* trace_ = nullptr;  // null: tracing off, one branch per hook
};

}  // namespace inca::fabric
