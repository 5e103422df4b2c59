// Counters of a world: what the switches, the hosts, the fault model and the
// recovery machinery did. Every field is cumulative since the world was
// created; subtract two snapshots for one collective.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace inca {

struct WorldStats {
  std::uint64_t events = 0;  ///< discrete events processed (sim)

  // Switch aggregation engines, summed over switches.
  std::uint64_t switch_contributions = 0;           ///< contributions aggregated
  std::uint64_t switch_identity_contributions = 0;  ///< ... of which header-only (nothing held)
  std::uint64_t switch_duplicates = 0;              ///< retransmitted contributions recognised
  std::uint64_t switch_duplicate_answers = 0;       ///< ... answered from the kept result
  std::uint64_t switch_partial_reforwards = 0;      ///< ... that made a switch resend its partial
  std::uint64_t switch_results = 0;                 ///< chunk results produced or received
  std::uint64_t switch_header_only_results = 0;  ///< results sent as headers alone (kept nothing)
  std::uint64_t switch_drops = 0;                ///< every drop below, plus stale and slot_full
  std::uint64_t switch_stale = 0;                ///< packets for a chunk a slot has moved past
  std::uint64_t switch_slot_full = 0;            ///< new chunk met a slot still busy
  std::uint64_t switch_drop_unknown_tree = 0;    ///< no such (job, tree) on the switch
  std::uint64_t switch_drop_bad_key = 0;         ///< wrong per-job key tag
  std::uint64_t switch_drop_bad_child = 0;       ///< child index or ingress port not the member's
  std::uint64_t switch_drop_bad_slot = 0;        ///< slot outside the tree's installed range
  std::uint64_t switch_drop_mismatch = 0;        ///< dtype/op/count/flags differ within a chunk
  std::uint64_t switch_refused_caps = 0;  ///< contributions outside the switch's dtype/op caps
  std::uint64_t switch_errors_sent = 0;   ///< error packets emitted (mismatch, caps)

  // Host endpoints, summed over ranks.
  std::uint64_t host_packets_sent = 0;
  std::uint64_t host_retransmissions = 0;  ///< innet chunks + p2p fragments sent again
  std::uint64_t host_innet_retransmissions = 0;
  std::uint64_t host_p2p_retransmissions = 0;
  std::uint64_t host_duplicate_results = 0;  ///< results for chunks already answered
  std::uint64_t host_p2p_duplicates = 0;     ///< p2p fragments received twice
  std::uint64_t host_acks_sent = 0;          ///< p2p acknowledgements
  std::uint64_t host_errors_received = 0;    ///< error packets that failed an operation
  std::uint64_t host_dropped = 0;            ///< packets for no operation, or of another job
  std::uint64_t host_timeouts = 0;           ///< operations failed after retransmissions ran out

  // Fault injection (FabricOptions::faults) and what receivers caught.
  std::uint64_t fault_dropped = 0;
  std::uint64_t fault_duplicated = 0;
  std::uint64_t fault_reordered = 0;
  std::uint64_t fault_corrupted = 0;
  std::uint64_t fault_corrupt_detected = 0;  ///< corrupted packets the CRC-32 caught
  std::uint64_t fault_corrupt_undetected = 0;
  std::uint64_t fault_link_down_drops = 0;
  std::uint64_t fault_switch_down_drops = 0;
  std::uint64_t fault_switch_state_losses = 0;

  // Recovery (docs/reliability.md), counted once per collective, not per rank.
  std::uint64_t collectives_failed = 0;     ///< attempts that failed on some rank
  std::uint64_t trees_reformed = 0;         ///< new trees built around failures
  std::uint64_t reruns = 0;                 ///< failed collectives run again (all ranks agreed)
  std::uint64_t fallbacks = 0;              ///< ... of which with a host algorithm
  std::uint64_t agreements_incomplete = 0;  ///< not every rank reported in time: no re-run
};

/// Every field with its name, in declaration order (for tables and JSON).
std::vector<std::pair<std::string_view, std::uint64_t>> stats_fields(const WorldStats& stats);

/// Field by field a - b (the counters of what happened between two snapshots).
WorldStats operator-(const WorldStats& a, const WorldStats& b);

}  // namespace inca
