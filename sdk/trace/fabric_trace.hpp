// The trace recorder of one World: implements the TraceSink hooks on top of
// a (possibly shared) ChromeTraceFile. It samples per-link counters
// (LinkSampler), per-switch slot occupancy and aggregation counts, turns
// counter changes into fault instants (losses, retransmissions, timeouts),
// keeps each rank lane's spans until its outermost span closes so they are
// written properly nested, and shifts the world's time so that its runs
// follow whatever the file recorded before them. Thread-safe: on the live
// fabric every rank and switch thread calls it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "fabric.hpp"
#include "inca/faults.hpp"
#include "inca/trace.hpp"
#include "topology/topology.hpp"
#include "trace/chrome_trace_file.hpp"
#include "trace/link_sampler.hpp"
#include "trace/trace_sink.hpp"

namespace inca::trace {

class FabricTrace final : public TraceSink {
 public:
  /// `options.interval` must be resolved (> 0). `faults` places the planned
  /// outages on the timeline.
  FabricTrace(std::shared_ptr<ChromeTraceFile> file, const topology::Topology& topology,
              fabric::Fabric& fabric, const TraceOptions& options, const FaultPlan& faults);
  /// Writes what is left (last samples, planned outages that happened).
  ~FabricTrace() override;

  /// Around every World::run: places the run after what the file holds,
  /// and afterwards writes the counters' last samples.
  void run_started(Time now);
  void run_ended(Time now);

  void link_send(std::uint32_t node, std::uint16_t port, Time now, Time tx_begin, Time tx_end,
                 Time arrival, const wire::Packet& packet) override;
  void packet_lost(std::uint32_t node, std::uint16_t port, Time now) override;
  void switch_touched(std::uint32_t node, Time now) override;
  void host_touched(std::uint32_t rank, Time now) override;
  void switch_restarted(std::uint32_t node, Time now) override;
  Lane lane(std::uint32_t rank, std::uint64_t fiber) override;
  void fiber_done(std::uint32_t rank, std::uint64_t fiber) override;
  void open(Lane lane) override;
  void span(Lane lane, std::string_view category, std::string_view name, Time begin, Time end,
            const Args& args) override;
  void fabric_instant(std::string_view name, Time at, const Args& args) override;

 private:
  struct LinkState {
    std::string name;  // "host3 -> leaf0"
    Track track;
    std::uint32_t tid;
    LinkSampler sampler;
  };
  struct SwitchCounts {
    std::uint64_t contributions = 0, results = 0, duplicates = 0, drops = 0;
  };
  struct SwitchState {
    std::int64_t interval = -1;  // the interval being counted
    std::uint32_t slots_in_use = 0;
    SwitchCounts counted;  // in that interval
    SwitchCounts seen;     // the engine's counters when last read
    bool last_was_zero = true;
  };
  struct HostState {
    std::uint64_t innet_retransmissions = 0, p2p_retransmissions = 0, timeouts = 0;
  };
  struct PendingSpan {
    Time begin, end;
    int depth;
    std::string category, name;
    Args args;
  };
  struct LaneState {
    int depth = 0;
    std::vector<PendingSpan> spans;
  };

  Time at(Time fabric_time) const { return fabric_time + offset_; }
  static std::uint32_t lane_tid(Lane lane) { return lane.rank * 128 + lane.lane; }
  LinkState& link(std::uint32_t node, std::uint16_t port);
  void name_link(const LinkState& l);
  SwitchCounts read_switch(std::uint32_t node) const;
  void sample_switch(std::uint32_t node, Time now, bool final);  // with mutex_ held
  void write_switch(std::uint32_t node, std::int64_t interval, const SwitchState& s);
  void sample_host(std::uint32_t rank, Time now);  // with mutex_ held
  void flush_links(Time now);                      // with mutex_ held

  std::shared_ptr<ChromeTraceFile> file_;
  const topology::Topology& topology_;
  fabric::Fabric& fabric_;
  TraceOptions options_;
  FaultPlan faults_;
  std::mutex mutex_;
  Time offset_ = 0;
  Time last_ = 0;                        // latest fabric time seen
  std::vector<std::size_t> first_link_;  // node -> index of its port 0 in links_
  std::vector<LinkState> links_;
  std::map<std::uint32_t, SwitchState> switches_;
  std::vector<HostState> hosts_;
  FaultCounters faults_seen_;
  std::unordered_map<std::uint32_t, LaneState> lanes_;  // by lane_tid
  std::map<std::pair<std::uint32_t, std::uint64_t>, Lane> fiber_lanes_;
};

/// Resolves TraceOptions::interval for a fabric (wall clock: coarser).
Time trace_interval(const TraceOptions& options, bool wall_clock);

}  // namespace inca::trace
