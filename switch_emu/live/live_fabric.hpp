// The live fabric: the threaded software switch. Every rank is a thread that
// runs the rank program and services its own NIC while it waits; every
// switch is a thread that runs the aggregation engine and forwards by the
// routing table; every link direction is a lock-free single-producer
// single-consumer ring with a pacer for the line rate and a delay line for
// latency (link_ring.hpp). Time is the wall clock. The protocol code is the
// simulator's, unchanged: only what drives it differs.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "fabric.hpp"
#include "inca/status.hpp"
#include "live/backoff.hpp"
#include "live/link_ring.hpp"
#include "live/live_clock.hpp"
#include "live/live_node.hpp"
#include "live/live_rank_driver.hpp"
#include "live/live_switch.hpp"
#include "live/progress_tracker.hpp"
#include "topology/topology.hpp"
#include "wire/control.hpp"

namespace inca::live {

struct LiveConfig {
  protocol::EndpointConfig endpoint;  ///< template for every host (rank/address filled in)
  std::size_t ring_capacity = 4096;   ///< packets a link direction holds before the sender backlogs
  BackoffConfig backoff;              ///< how idle threads wait
  /// Answers to a packet leave at its arrival time, not when the thread got
  /// to it (live_node.hpp); false stamps everything with the wall clock.
  bool act_at_arrival = true;
  std::uint32_t max_threads = 1024;  ///< ranks + switches one run may start
};

using fabric::RankMain;

class LiveFabric final : public fabric::Fabric {
 public:
  LiveFabric(const topology::Topology& topology, LiveConfig config);
  ~LiveFabric() override;
  LiveFabric(const LiveFabric&) = delete;
  LiveFabric& operator=(const LiveFabric&) = delete;

  /// Control plane: applied at once between runs, or handed to the switch's
  /// thread (and waited for) during a run.
  Status install(std::uint32_t switch_node, const wire::TreeInstall& tree) override;
  Status remove(std::uint32_t switch_node, const wire::TreeRemove& tree) override;
  /// Starts a thread per switch and per rank, runs `main` on every rank and
  /// returns once all returned. Packets still on links stay there for the
  /// next run. One run at a time.
  Status run(const RankMain& main) override;
  Time now() const override { return clock_.now(); }
  /// Read these between runs (the rank and switch threads own them during one).
  protocol::HostEndpoint& endpoint(std::uint32_t rank) override;
  const engine::EngineCounters* switch_counters(std::uint32_t node) const override;
  const engine::AggregationNode* engine(std::uint32_t node) const override;
  /// Hands the sink to every link, switch and rank.
  void set_trace(trace::TraceSink* sink) override;

  const topology::Topology& topology() const { return topology_; }
  /// Traffic sent out of `port` of `node`; read between runs.
  const LinkCounters& link_counters(std::uint32_t node, std::uint16_t port) const;
  /// Packets handed to the fabric and not yet handled; between runs, the
  /// packets still on links (0 once everything was delivered).
  std::int64_t packets_in_flight() const { return tracker_.busy(); }

 private:
  Status control(std::uint32_t switch_node, LiveSwitch::Control change);
  void rank_thread(std::uint32_t rank, const RankMain& main);

  const topology::Topology& topology_;
  LiveConfig config_;
  LiveClock clock_;
  ProgressTracker tracker_;
  std::vector<std::unique_ptr<LiveNode>> nodes_;                // by node id
  std::vector<std::vector<std::unique_ptr<LinkRing>>> egress_;  // [node][port]
  std::vector<std::unique_ptr<LiveRankDriver>> ranks_;          // by rank
  std::vector<std::uint32_t> rank_nodes_;                       // rank -> node id
  std::vector<std::unique_ptr<LiveSwitch>> switches_;           // by node id; null for hosts
  std::mutex run_mutex_;                                        // one run at a time
  std::mutex control_mutex_;  // orders control calls against a run's start and end
  bool running_ = false;      // guarded by control_mutex_
  std::atomic<bool> stop_switches_{false};
  std::atomic<std::uint32_t> running_ranks_{0};
};

}  // namespace inca::live
