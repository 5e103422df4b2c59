// The discrete-event fabric: integer virtual time in picoseconds, links with
// rate, propagation latency and a FIFO egress queue per port (serialisation
// modelled exactly), switches that run the aggregation engine or forward by
// the routing table, and ranks that run as fibers (Boost.Context) so that rank
// code is ordinary blocking code. Deterministic: equal inputs, equal outputs.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/aggregation_node.hpp"
#include "fabric.hpp"
#include "inca/status.hpp"
#include "protocol/host_driver.hpp"
#include "sim/event_heap.hpp"
#include "topology/topology.hpp"
#include "wire/control.hpp"

namespace inca::sim {

struct SimConfig {
  protocol::EndpointConfig endpoint;  ///< template for every host (rank/address filled in)
  std::size_t fiber_stack_bytes = 256 * 1024;
  double host_reduce_gbps = 0;  ///< host reduction speed (0: free, the model's gamma = 0)
};

/// Counters of one egress port.
struct PortCounters {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;  ///< wire bytes, framing included
  Time busy = 0;            ///< time spent serialising
};

using fabric::RankMain;

class SimFabric final : public fabric::Fabric {
 public:
  SimFabric(const topology::Topology& topology, SimConfig config);
  ~SimFabric() override;
  SimFabric(const SimFabric&) = delete;
  SimFabric& operator=(const SimFabric&) = delete;

  Status install(std::uint32_t switch_node, const wire::TreeInstall& tree) override;
  Status remove(std::uint32_t switch_node, const wire::TreeRemove& tree) override;
  /// Runs `main` on every rank (one per host) until all return. Virtual time
  /// carries over between runs.
  Status run(const RankMain& main) override;
  Time now() const override { return now_; }
  std::uint64_t events_processed() const override { return events_; }
  protocol::HostEndpoint& endpoint(std::uint32_t rank) override;
  const engine::EngineCounters* switch_counters(std::uint32_t node) const override;

  const topology::Topology& topology() const { return topology_; }
  const engine::AggregationNode* engine(std::uint32_t switch_node) const;
  const PortCounters& port_counters(std::uint32_t node, std::uint16_t port) const;

 private:
  class RankDriver;
  struct PortState;
  struct NodeState;
  struct Event {
    std::uint16_t kind;
    std::uint16_t port;
    std::uint32_t node;
    std::uint32_t arg;  // rank (timer, wake); arrivals name the sending node and port
  };
  enum Kind : std::uint16_t { kArrival, kTimer, kWake };

  void schedule(Time t, Kind kind, std::uint32_t node, std::uint32_t arg, std::uint16_t port = 0);
  void enqueue(std::uint32_t node, std::uint16_t port, wire::Packet&& packet);
  void transmit_from_host(std::uint32_t rank, protocol::Outbox& out);
  void on_arrival(std::uint32_t node, std::uint16_t port, wire::Packet&& packet);
  void after_host_activity(std::uint32_t rank);
  static constexpr std::uint32_t kNoRank = 0xffffffffu;
  /// Handles one event; returns the rank whose host it touched, or kNoRank.
  /// The event is the heap's top on entry; process() removes it.
  std::uint32_t process(const Event& ev);

  const topology::Topology& topology_;
  SimConfig config_;
  Time now_ = 0;
  std::uint64_t events_ = 0;
  EventHeap<Event> events_queue_;
  std::vector<NodeState> nodes_;
  std::vector<std::unique_ptr<RankDriver>> ranks_;
  std::vector<engine::Emit> emits_;  // scratch
  protocol::Outbox outbox_;          // scratch
};

}  // namespace inca::sim
