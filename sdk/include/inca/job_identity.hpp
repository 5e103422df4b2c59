// Who a World's communicators are to the aggregation manager of a described
// fabric (a fabric file, preset or FabricDescription): SHARP books every
// tree against a job, its priority's quota of each switch, and for large
// messages an exclusive lock on the switches' streaming resources.
#pragma once

#include <cstdint>
#include <string>

namespace inca {

/// A job's name, tenant, priority and resource requests. Every tree the
/// job's communicators take is booked on each of its switches: payload per
/// slot, slots within the priority's quota, low-latency and streaming tree
/// counts within the switch's limits (docs/job-files.md).
struct JobIdentity {
  std::string name = "job";    ///< names the job in the manager's messages
  std::string tenant = {};     ///< prefixes the name in them when set
  std::uint32_t priority = 0;  ///< 0..9
  /// The share of each switch's slots this job's priority may hold.
  std::uint32_t quota_percent = 100;
  /// Payload per slot asked of every switch of a tree; 0 takes what the
  /// switches offer. More than a switch offers is `no_resource`.
  std::uint32_t payload_bytes = 0;
  /// Messages above streaming_threshold run in-network only while the tree
  /// holds the exclusive streaming lock of its switches (or ports); a tree
  /// that cannot take it (lock_failed, retried at the next such collective)
  /// makes `auto` use a host algorithm.
  bool streaming = false;
  std::uint64_t streaming_threshold = 16 * 1024;
};

}  // namespace inca
