// The aggregation manager's book of what every switch of a described fabric
// holds, with SHARP's semantics (FIELD-NOTES, "SHARP's aggregation manager in
// practice"): slots (OSTs) and their payload buffers, low-latency (LLT) and
// streaming (SAT) tree counts against the switch's limits, a quota per job
// priority as a percentage of each switch, and exclusive streaming locks per
// switch or per port. A job's trees span its hosts and are rooted at
// different switches, the shortest first, the least loaded among equals.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "inca/fabric_description.hpp"
#include "inca/status.hpp"

namespace inca::manager {

/// What one job asks of the fabric.
struct JobResourceRequest {
  std::string job;
  std::uint32_t priority = 0;          ///< 0..9
  std::vector<std::uint32_t> hosts;    ///< indexes into the fabric's hosts, one per rank
  std::uint32_t slots = 64;            ///< per tree, on each of its switches
  std::uint32_t payload_bytes = 1024;  ///< per slot
  std::uint32_t trees = 1;
  bool streaming = false;  ///< each tree also takes a streaming tree
};

/// One switch of an allocated tree.
struct TreeSwitch {
  std::uint32_t switch_index = 0;
  std::int64_t parent = -1;  ///< switch index; -1 at the root
  std::vector<std::uint32_t> child_switches;
  std::vector<std::uint32_t> child_hosts;  ///< host indexes
  std::vector<std::uint32_t> links;        ///< link indexes it uses (children and parent)
};

struct AllocatedTree {
  std::uint32_t root = 0;    ///< switch index
  std::uint32_t levels = 0;  ///< switches on the longest host-root path
  std::vector<TreeSwitch> switches;
};

/// What a job was granted.
struct JobGrant {
  std::string job;
  std::vector<AllocatedTree> trees;
  SwitchCaps caps;  ///< what every switch of every tree aggregates
  std::uint32_t slots = 0, payload_bytes = 0;
  bool streaming = false;
  /// The largest message a low-latency tree serves: slots x payload.
  std::uint64_t llt_max_bytes() const { return std::uint64_t{slots} * payload_bytes; }
};

/// What one switch has handed out.
struct SwitchUsage {
  std::uint32_t slots = 0;
  std::uint64_t payload_bytes = 0;  ///< buffer bytes: slots x each job's payload
  std::uint32_t llt_trees = 0, sat_trees = 0;
};

/// A job's holding on one switch (for `inca tree --resources` and reports).
struct Holding {
  std::string job;
  std::uint32_t switch_index = 0;
  SwitchUsage usage;
  double quota_share = 0;  ///< slots held / the job's quota on this switch
};

class SwitchResources {
 public:
  /// `quota_percent[p]`: the share of each switch's slots a priority-p job may hold.
  SwitchResources(const FabricDescription& fabric,
                  const std::array<std::uint32_t, 10>& quota_percent);

  /// Builds the job's trees and reserves them, all or nothing. Errors:
  /// invalid_argument (unknown job name twice, bad hosts), no_tree (too few
  /// switches root a tree spanning the hosts), no_resource (payload per slot
  /// above a switch's, slots or tree limits exhausted), quota_exceeded (more
  /// than the priority's share of a switch); each names the switch and the
  /// numbers that did not fit.
  Result<JobGrant> allocate(const JobResourceRequest& request);
  /// The same for trees built elsewhere (the AggregationManager's, over the
  /// topology whose switch node ids are this fabric's switch indexes): one
  /// per requested tree; invalid_argument when a switch index is unknown.
  Result<JobGrant> allocate(const JobResourceRequest& request, std::vector<AllocatedTree> trees);
  /// Sets priority `priority`'s quota (percent of each switch's slots) for
  /// later allocations.
  void set_quota_percent(std::uint32_t priority, std::uint32_t percent);
  /// The trees allocate() would build for `request` now, reserving nothing
  /// (no_tree when too few switches can root one).
  Result<std::vector<AllocatedTree>> plan_trees(const JobResourceRequest& request) const;
  /// Takes the job's streaming locks on every switch (or port) of its trees,
  /// all or none. lock_failed (retryable) names the switch, port and holder;
  /// lock_denied when the job has no streaming trees.
  Status lock_streaming(const std::string& job);
  /// Drops the job's streaming locks (nothing when it holds none).
  void unlock_streaming(const std::string& job);
  /// Frees everything the job holds; invalid_argument when it holds nothing.
  Status release(const std::string& job);

  const SwitchUsage& usage(std::uint32_t switch_index) const { return usage_.at(switch_index); }
  /// Every job's holding on every switch, by switch then job.
  std::vector<Holding> holdings() const;
  /// The job holding the streaming lock unit of (switch, link), or "".
  std::string lock_holder(std::uint32_t switch_index, std::uint32_t link) const;
  const FabricDescription& fabric() const { return fabric_; }

 private:
  struct Graph;
  struct Live {
    JobGrant grant;
    std::uint32_t priority = 0;
    std::map<std::uint32_t, SwitchUsage> per_switch;
  };
  // A streaming lock unit: (switch, link); the link is kWholeSwitch for per_switch locks.
  using LockUnit = std::pair<std::uint32_t, std::uint32_t>;
  static constexpr std::uint32_t kWholeSwitch = 0xffffffffu;
  std::vector<LockUnit> lock_units(const Live& live) const;
  Status check_request(const JobResourceRequest& request) const;
  Result<JobGrant> reserve(const JobResourceRequest& request, std::vector<AllocatedTree> trees);

  const FabricDescription& fabric_;
  std::array<std::uint32_t, 10> quota_percent_;
  std::shared_ptr<const Graph> graph_;
  std::vector<SwitchUsage> usage_;
  std::vector<std::uint32_t> rooted_;  // trees rooted at each switch (for spreading roots)
  std::map<std::string, Live> live_;
  std::map<LockUnit, std::string> locks_;
};

}  // namespace inca::manager
