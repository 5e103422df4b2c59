// Jobs as a user describes them for one fabric: who runs (name, tenant,
// priority), where (hosts, or a placement policy), what they ask of the
// switches (slots, payload per slot, trees, streaming), and what they run
// (a sequence of collectives). Loaded from a YAML job file
// (docs/job-files.md) with the fabric files' conventions: every problem in
// one pass, located at its line and column, with a hint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inca/collective.hpp"
#include "inca/dtype.hpp"
#include "inca/fabric_description.hpp"

namespace inca {

/// How a job's ranks find their hosts.
enum class PlacementPolicy : std::uint8_t { hosts, packed, spread, random };
std::string_view to_string(PlacementPolicy policy);

struct JobPlacement {
  PlacementPolicy policy = PlacementPolicy::packed;
  /// policy hosts: one host name per rank, in rank order.
  std::vector<std::string> hosts;
  /// Where each host name was written (same order as `hosts`).
  std::vector<SourceLocation> host_where;
  std::uint32_t ranks = 0;  ///< policies: how many ranks (one per host)
  std::uint64_t seed = 0;   ///< random: the shuffle's seed
  SourceLocation where;
};

/// What a job asks of every switch of its trees (SHARP's job quota).
struct JobRequests {
  std::uint32_t slots = 64;                   ///< outstanding transactions per tree (OSTs)
  std::uint32_t payload_bytes = 1024;         ///< payload per slot
  std::uint32_t trees = 1;                    ///< low-latency trees, each rooted elsewhere
  bool streaming = false;                     ///< also a streaming (SAT) tree per tree
  std::uint64_t streaming_threshold = 16384;  ///< messages above it use streaming
  SourceLocation where;
};

/// One step of a job's workload: `repeat` runs of one collective.
struct WorkloadStep {
  Collective collective = Collective::allreduce;
  std::uint64_t bytes = 0;  ///< per rank
  Dtype dtype = Dtype::f32;
  ReduceOp op = ReduceOp::sum;
  std::uint32_t repeat = 1;
  Time start = 0;  ///< earliest start, from the run's beginning
  SourceLocation where;
};

struct JobDescription {
  std::string name;
  std::string tenant;
  std::uint32_t priority = 0;  ///< 0..9, as SHARP's quota classes
  JobPlacement placement;
  JobRequests requests;
  std::vector<WorkloadStep> workload;
  SourceLocation where;
};

struct JobLoad;

/// Every job of a file; they run concurrently on one fabric.
struct JobSet {
  std::string source;  ///< the file it was loaded from ("" when built in code)
  /// Quota per priority, percent of each switch's slots and payload buffers
  /// a job of that priority may hold (SHARP's default is 20 for every class).
  std::uint32_t quota_percent[10] = {20, 20, 20, 20, 20, 20, 20, 20, 20, 20};
  std::uint32_t jobs_per_nic = 1;     ///< jobs that may share one host's NIC
  std::uint32_t min_group_ranks = 2;  ///< fewer ranks cannot form an in-network group
  std::vector<JobDescription> jobs;

  static JobLoad load(const std::string& path);
  /// The same from text; `file` names it in diagnostics.
  static JobLoad parse(const std::string& yaml, const std::string& file);
};

/// The outcome of loading a job file: the jobs when there was no error, and
/// every finding either way.
struct JobLoad {
  std::optional<JobSet> jobs;
  std::vector<Diagnostic> diagnostics;
  bool ok() const { return jobs.has_value(); }
};

}  // namespace inca
