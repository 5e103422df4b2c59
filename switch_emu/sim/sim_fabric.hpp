// The discrete-event fabric: integer virtual time in picoseconds, links with
// rate, propagation latency and a FIFO egress queue per port (serialisation
// modelled exactly), switches that run the aggregation engine or forward by
// the routing table, and ranks that run as fibers (Boost.Context) so that rank
// code is ordinary blocking code. Deterministic: equal inputs, equal outputs.
//
// Every timing element of a fabric description costs what docs/model.md says:
// a switch's forwarding latency delays every packet it sends; its ALU is a
// FIFO server that takes each contribution for max(payload / rate, 1 / packet
// rate) and hands it to the engine after the aggregation latency. A host pays
// LogGP's o per message: a point-to-point message, or one in-network
// operation (posted send_overhead after it was sent, taken in recv_overhead
// after its last fragment or last result arrived); and g between any two
// messages or contributions it sends, or results it takes in.
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
#include "sim/fault_model.hpp"
#include "sim/held_packets.hpp"
#include "topology/topology.hpp"
#include "wire/control.hpp"

namespace inca::sim {

struct SimConfig {
  protocol::EndpointConfig endpoint;  ///< template for every host (rank/address filled in)
  std::size_t fiber_stack_bytes = 256 * 1024;
  /// Segment mode (docs/model.md): endpoints send segments of up to this many
  /// wire packets (endpoint.segment_packets), and switch slots hold a
  /// segment's payload. Links, switch ALUs and host receive paths pass a
  /// segment's packets pipelined: it arrives at a switch when its first packet
  /// has, at a host when its last has. 1: packet mode.
  std::uint32_t segment_packets = 1;
  /// Called every `progress_events` events with the events so far and the
  /// virtual time, so a long run can report progress; 0: never.
  std::uint64_t progress_events = 0;
  std::function<void(std::uint64_t events, Time now)> on_progress;
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
  /// Events scheduled and not yet processed (arrivals, timers, wake-ups).
  std::size_t pending_events() const { return events_queue_.size(); }
  protocol::HostEndpoint& endpoint(std::uint32_t rank) override;
  const engine::EngineCounters* switch_counters(std::uint32_t node) const override;
  /// Installs a fault plan (sim/fault_model.hpp); an empty plan removes faults.
  Status set_faults(const FaultPlan& plan) override;
  FaultCounters fault_counters() const override;
  bool node_alive(std::uint32_t node) const override;
  bool link_alive(std::uint32_t node, std::uint16_t port) const override;

  void attach(std::uint32_t host, std::uint16_t tree, std::uint16_t port) override;

  const topology::Topology& topology() const { return topology_; }
  const engine::AggregationNode* engine(std::uint32_t switch_node) const override;
  const PortCounters& port_counters(std::uint32_t node, std::uint16_t port) const;

 private:
  class RankDriver;
  struct PortState;
  struct InFlight;
  struct Stage;
  struct StageCost;
  struct NodeState;
  struct Event {
    std::uint16_t kind;
    std::uint16_t port;
    std::uint32_t node;
    std::uint32_t
        arg;  // rank (timer, wake); held packet id; arrivals name the sending node and port
  };
  // kHeld: a packet the fault model took off its link's FIFO (reordered or
  // duplicated) arrives on its own.
  // kStage: the head of a node's ALU (switch) or receive (host) stage is done.
  // kAck: an acknowledgement booked along its whole path at once reaches its
  // host (arg: its place in parked_acks_).
  enum Kind : std::uint16_t { kArrival, kTimer, kWake, kHeld, kStage, kAck };

  void schedule(Time t, Kind kind, std::uint32_t node, std::uint32_t arg, std::uint16_t port = 0);
  /// Puts a packet on (node, port)'s link, offered to it at `offered` (>= now).
  /// `tail`: when the last wire packet of a segment is ready (>= offered).
  void enqueue(std::uint32_t node, std::uint16_t port, wire::Packet&& packet, Time offered,
               Time tail);
  /// Passes a packet through a node's stage; kStage delivers it.
  void stage(std::uint32_t node, Stage& stage, std::uint16_t port, wire::Packet&& packet, Time tail,
             const StageCost& cost);
  /// What reaches a node once its stage (if any) is past; `tail` as above.
  void handle(std::uint32_t node, std::uint16_t port, wire::Packet&& packet, Time tail);
  /// Whether a segment is handed to `node` when its first packet is there
  /// (switches cut through; a host takes results as they come) rather than its last.
  bool takes_at_head(std::uint32_t node, const wire::Packet& packet) const;
  std::uint16_t host_egress(std::uint32_t rank, const wire::Packet& packet) const;
  void transmit_from_host(std::uint32_t rank, protocol::Outbox& out);
  void on_arrival(std::uint32_t node, std::uint16_t port, wire::Packet&& packet, Time tail);
  /// Hands a packet that crossed (node, port) to the peer, unless a fault
  /// lost it; returns the rank whose host it reached, or kNoRank.
  std::uint32_t deliver(std::uint32_t node, std::uint16_t port, wire::Packet&& packet, Time tail);
  /// Under faults: a dead switch does nothing, and one that died since it was
  /// last touched restarts with an empty engine. False while it is dead.
  bool switch_ready(std::uint32_t node);
  void after_host_activity(std::uint32_t rank);
  /// Schedules a kTimer at the endpoint's `next` deadline unless one pending comes by then.
  void arm_timer(std::uint32_t rank, Time next);
  static constexpr std::uint32_t kNoRank = 0xffffffffu;
  /// Handles one event; returns the rank whose host it touched, or kNoRank.
  /// The event is the heap's top on entry; process() removes it.
  std::uint32_t process(const Event& ev);

  const topology::Topology& topology_;
  SimConfig config_;
  Time now_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t next_progress_ = 0;  // events_ at the next on_progress call (~0: none)
  EventHeap<Event> events_queue_;
  std::vector<NodeState> nodes_;
  std::vector<std::unique_ptr<RankDriver>> ranks_;
  std::vector<engine::Emit> emits_;  // scratch
  protocol::Outbox outbox_;          // scratch
  // While a host handles a segment: when its last packet arrived, before
  // which nothing the host sends in answer can be complete.
  Time answer_tail_ = 0;
  // Acknowledgements on their way to a host, their whole path booked when sent.
  HeldPackets parked_acks_;
  std::unique_ptr<FaultModel> faults_;      // null without faults: no cost
  std::vector<std::uint32_t> deaths_seen_;  // per node: deaths its engine has lived through
};

}  // namespace inca::sim
