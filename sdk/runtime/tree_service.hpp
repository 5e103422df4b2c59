// The world communicator's aggregation tree as every rank sees it, and what
// ranks use to recover from a failed collective (docs/reliability.md):
// - the tree is re-formed (once per failed generation) around the switches
//   and links the fabric reports dead;
// - ranks report each collective attempt's outcome, and a rank that failed
//   waits for everyone's outcome before it re-runs, so that either all ranks
//   re-run an attempt or none does.
// One per World, shared by its ranks; thread-safe (the live fabric runs ranks
// as threads). In one process this is shared memory; a multi-process
// deployment would put it behind the launcher's out-of-band channel, as
// SHARP does with its OOB barrier and gather callbacks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fabric.hpp"
#include "inca/faults.hpp"
#include "inca/stats.hpp"
#include "inca/status.hpp"
#include "manager/aggregation_manager.hpp"
#include "topology/topology.hpp"

namespace inca::runtime {

/// What one rank says about one collective attempt.
enum class Outcome : std::uint8_t {
  pending = 0,
  ok,           ///< completed with the exact result
  recoverable,  ///< failed because the fabric stopped answering (timeout)
  fatal,        ///< failed in a way a re-run repeats (mismatch, bad argument)
};

class TreeService {
 public:
  /// The tree every rank uses: a snapshot stays valid after a re-form.
  struct Snapshot {
    std::shared_ptr<const manager::TreePlan> plan;  ///< null when there is no tree
    Status status;                                  ///< why there is none
    std::uint64_t generation = 0;
  };
  /// The decision on a failed attempt, the same for every rank that asks.
  struct Verdict {
    bool rerun = false;     ///< every rank failed it recoverably, with the same arguments
    bool mismatch = false;  ///< ranks called it with different arguments
    std::string why;        ///< when not re-run: who completed it, failed for good, or differed
    Snapshot tree;          ///< the tree to re-run on
  };

  TreeService(const topology::Topology& topology, manager::AggregationManager& manager,
              fabric::Fabric& fabric, manager::TreeRequest request, std::uint32_t ranks,
              const RecoveryOptions& options);
  /// Removes the tree from the switches and gives its slots back to the manager.
  ~TreeService();
  TreeService(const TreeService&) = delete;
  TreeService& operator=(const TreeService&) = delete;

  /// The service of sub-communicator `color` of the split whose agreement
  /// was this service's attempt `split` (the same number on every member).
  /// The first member to ask creates it over `hosts` (the members' world
  /// ranks in sub-rank order) and installs its tree; the others share it; it
  /// lives while a member holds it.
  /// Its tree is booked as `job` when given, else as this service's;
  /// `placement` and `window` (0: this service's) shape its tree request.
  std::shared_ptr<TreeService> group(std::uint64_t split, std::int32_t color,
                                     const std::vector<std::uint32_t>& hosts,
                                     const JobIdentity* job = nullptr,
                                     manager::TreePlacement placement = manager::TreePlacement::any,
                                     std::uint32_t window = 0);
  /// The out-of-band all-gather of payload-free communicators, whose
  /// messages carry no data (SHARP's OOB gather callback): rank `rank` of
  /// this service's ranks posts `entry` for exchange `id` (the same number
  /// on every rank), and, once a barrier says every rank posted, collects
  /// everyone's in rank order. The exchange is forgotten once every rank
  /// collected it. Every rank gets the same entries, shared (a copy each was
  /// thousands of strings per rank, millions per exchange at 4,608 ranks);
  /// null for an exchange that is gone.
  void post(std::uint64_t id, std::uint32_t rank, std::string entry);
  std::shared_ptr<const std::vector<std::string>> collect(std::uint64_t id);
  /// The point-to-point tag contexts in use on world rank `host`'s endpoint,
  /// bit c for context c (bit 0: the world communicator). Kept by the world's
  /// service for every communicator on the fabric; only that rank touches it.
  std::uint8_t& contexts(std::uint32_t host) { return root_->contexts_[host]; }
  /// The attempt number a new sub-communicator on world rank `host` starts
  /// from: past every attempt a destroyed one reached there, so that its
  /// private tags (which the endpoint retired) are not reused soon.
  std::uint64_t& first_attempt(std::uint32_t host) { return root_->first_attempts_[host]; }

  /// Allocates and installs the first tree; when that fails in-network
  /// collectives are unavailable, which is no error.
  void start();
  Snapshot current() const;
  const RecoveryOptions& options() const { return options_; }

  /// One rank's account of one attempt.
  struct Report {
    Outcome outcome = Outcome::pending;
    bool tree_suspect = false;     ///< it failed on the switches: re-form the tree
    std::uint64_t generation = 0;  ///< the tree generation it ran on
    std::string signature;         ///< its arguments, compared across ranks
  };
  /// Records `rank`'s report of `attempt` at time `now`.
  void report(std::uint64_t attempt, std::uint32_t rank, const Report& report, Time now);
  /// The verdict on `attempt` once every rank reported, or once the
  /// agreement window that the first failure opened has closed; nullopt
  /// before. Decided once: later reports do not change it. When a rank found
  /// the tree suspect, the tree is re-formed (around dead switches and links)
  /// at that moment, after every rank is done with it, and the verdict
  /// carries the new one.
  std::optional<Verdict> verdict(std::uint64_t attempt, Time now);
  /// The streaming lock of the current tree for collective `attempt`, the
  /// same answer for every rank that asks about that attempt: the first to
  /// ask takes the lock (kept until the tree is dropped) or records why not
  /// (lock_failed, retried at the next attempt that asks).
  Status streaming_lock(std::uint64_t attempt);
  /// Counts a re-run of `attempt` (once, whatever number of ranks say so).
  void count_rerun(std::uint64_t attempt, bool fallback);

  /// Rank `rank`'s count of collective attempts begun. It outlives the
  /// communicators of single runs, so attempt numbers never repeat; only that
  /// rank touches its counter.
  std::uint64_t& attempts(std::uint32_t rank) { return attempts_[rank]; }

  /// collectives_failed, trees_reformed, reruns, fallbacks, agreements_incomplete;
  /// the world's service includes those of destroyed sub-communicators.
  void add_stats(WorldStats& stats) const;

 private:
  struct Record {
    std::vector<Outcome> outcomes;
    std::vector<std::string> signatures;
    std::uint32_t reported = 0;
    bool tree_suspect = false;
    std::uint64_t generation = 0;  // of the suspect tree
    Time close_at = kNever;
    std::optional<Verdict> decided;
    bool rerun_counted = false;
  };
  Snapshot install_tree();                // with the lock held
  void drop_tree();                       // with the lock held
  void reform(std::uint64_t generation);  // with the lock held
  Verdict decide(const Record& r, bool complete);

  const topology::Topology& topology_;
  manager::AggregationManager& manager_;
  fabric::Fabric& fabric_;
  manager::TreeRequest request_;
  std::uint32_t ranks_;
  RecoveryOptions options_;

  mutable std::mutex mutex_;
  // The aggregation manager and the switches are shared by every service of
  // a world, whose groups form and drop trees from different rank threads:
  // the root's lock guards them (taken after a service's own mutex_).
  std::mutex fabric_mutex_;
  Snapshot current_;
  std::map<std::uint64_t, Record> records_;
  bool streaming_held_ = false;                   // the current tree holds its streaming lock
  std::map<std::uint64_t, Status> lock_answers_;  // by attempt
  std::vector<std::uint64_t> attempts_;           // per rank; not guarded (each rank owns its own)
  WorldStats counts_;                             // only the recovery fields are used
  TreeService* root_ = this;                      // the world communicator's service
  std::vector<std::uint8_t> contexts_;            // per world rank; the root's only
  std::vector<std::uint64_t> first_attempts_;     // per world rank; the root's only
  std::map<std::pair<std::uint64_t, std::int32_t>, std::weak_ptr<TreeService>> groups_;
  struct OutOfBand {
    std::shared_ptr<std::vector<std::string>> entries;
    std::uint32_t collected = 0;
  };
  std::map<std::uint64_t, OutOfBand> out_of_band_;  // by exchange id
};

}  // namespace inca::runtime
