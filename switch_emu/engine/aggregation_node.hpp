// The sans-I/O aggregation node that runs inside every switch. It takes an
// aggregation packet and the port it arrived on and returns the packets to
// emit; it owns no sockets, threads or clocks, so the simulator, the threaded
// switch and the DPDK switch all drive this same code.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "inca/caps.hpp"
#include "inca/status.hpp"
#include "wire/control.hpp"
#include "wire/packet.hpp"

namespace inca::engine {

/// What a switch offers for aggregation; set by the switch's configuration.
struct SwitchConfig {
  std::uint32_t slots = 512;                ///< slot pool size (SHARP's OSTs)
  std::uint32_t slot_payload_bytes = 1024;  ///< payload per slot
  std::string name = "switch";              ///< names the switch in error messages
  /// The dtype/op pairs this switch aggregates; every tree installed here is
  /// bound by them, and a contribution outside them is refused.
  SwitchCaps caps = {};
};

/// Event counters. Every packet the node sees counts in `packets_in` and in
/// exactly one bucket (classified_packets() sums them); the others
/// (partials_sent, results, results_sent, ...) count what the node did.
struct EngineCounters {
  std::uint64_t packets_in = 0;              ///< every packet handed to on_packet
  std::uint64_t contributions = 0;           ///< contributions aggregated
  std::uint64_t identity_contributions = 0;  ///< of those, header-only (wire::kFlagIdentity)
  std::uint64_t duplicates = 0;              ///< contributions whose child bit was already set
  std::uint64_t duplicate_answers = 0;       ///< duplicates answered from the kept result
  std::uint64_t partial_reforwards = 0;      ///< partials re-sent upward after a duplicate
  std::uint64_t partials_sent = 0;           ///< completed partials sent to the parent
  std::uint64_t results = 0;                 ///< results produced (root) or received (others)
  std::uint64_t results_sent = 0;            ///< result packets emitted toward children
  std::uint64_t header_only_results = 0;     ///< of those, the header alone (wire::kFlagHeaderOnly)
  std::uint64_t slot_full = 0;               ///< new chunk met a slot still busy with another
  std::uint64_t stale = 0;                   ///< contribution/result/error for an older chunk
  std::uint64_t results_in = 0;              ///< results from the parent that completed a chunk
  std::uint64_t results_repeated = 0;        ///< results from the parent for a completed chunk
  std::uint64_t refused = 0;  ///< contributions to a chunk that failed (answered with its error)
  std::uint64_t refused_caps = 0;  ///< contributions whose dtype/op the switch does not aggregate
                                   ///< (answered with a not_supported error)
  std::uint64_t errors_in = 0;     ///< error packets from the parent or a child, passed on
  std::uint64_t errors_sent = 0;   ///< error packets emitted
  std::uint64_t drop_unknown_tree = 0;
  std::uint64_t drop_bad_key = 0;
  std::uint64_t drop_bad_child = 0;  ///< child index out of range or wrong port
  std::uint64_t drop_bad_slot = 0;   ///< slot outside the tree's installed range
  std::uint64_t drop_mismatch = 0;   ///< dtype/op/count differ from the chunk's (results: dropped)
  std::uint64_t drop_oversize = 0;   ///< payload larger than the tree's slot
  std::uint64_t drop_bad_type = 0;   ///< not a contribution, result or error
  std::uint64_t drop_malformed = 0;  ///< an error packet without a chunk sequence
};

/// One of the EngineCounters, named by its member.
using EngineBucket = std::uint64_t EngineCounters::*;

/// The sum of the buckets every incoming packet lands in; equals packets_in.
std::uint64_t classified_packets(const EngineCounters& c);
/// Packets the node dropped or could not place: the drop_* buckets, stale
/// packets and chunks that met a busy slot.
std::uint64_t dropped_packets(const EngineCounters& c);

inline constexpr std::uint16_t kNoChild = 0xffff;

/// One packet to send out of a port; `child` is the child index it is for
/// when it goes to one child (several children may share a port), else kNoChild.
struct Emit {
  std::uint16_t port;
  wire::Packet packet;
  std::uint16_t child = kNoChild;
};

/// The aggregation node of one switch.
class AggregationNode {
 public:
  explicit AggregationNode(SwitchConfig config);
  ~AggregationNode();
  AggregationNode(AggregationNode&&) noexcept;
  AggregationNode& operator=(AggregationNode&&) noexcept;

  /// Installs a tree. Fails with no_resource when its slot range leaves the
  /// pool or overlaps another tree's, invalid_argument on a bad description.
  Status install(const wire::TreeInstall& tree);
  /// Removes a tree and frees its slots; not_supported when it is unknown.
  Status remove(const wire::TreeRemove& tree);

  /// Handles one aggregation packet (contribution, result or error) arriving
  /// on `in_port`, appending what must be sent to `out`. A packet whose slot
  /// lies outside its tree's range is dropped (drop_bad_slot). A contribution
  /// whose dtype/op pair is outside the switch's caps is answered, to its
  /// sender only, with a `not_supported` error packet (refused_caps); the
  /// slot is left untouched. A contribution whose
  /// dtype, op, count, flags or attempt tag differ from its chunk's fails the
  /// chunk: the node sends an `error` packet (mismatch) to every child and to
  /// its parent, and answers later contributions of that chunk with it.
  void on_packet(std::uint16_t in_port, const wire::Packet& packet, std::vector<Emit>& out);

  const EngineCounters& counters() const { return counters_; }
  /// The bucket of dropped_packets() that on_packet's last packet went to,
  /// or null when it was not dropped: which check refused it.
  EngineBucket dropped_as() const { return dropped_as_; }
  const SwitchConfig& config() const { return config_; }
  /// Slots not given to any tree.
  std::uint32_t free_slots() const;
  /// Slot sets busy with a chunk now: collecting contributions, or waiting
  /// for the parent's result. A scan of every tree's slots: for sampling.
  std::uint32_t slots_in_use() const;

 private:
  struct Tree;
  Tree* find_tree(std::uint32_t job, std::uint16_t tree);
  void on_contribution(Tree& t, std::uint16_t in_port, const wire::Packet& p,
                       std::vector<Emit>& out);
  void on_result(Tree& t, std::uint16_t in_port, const wire::Packet& p, std::vector<Emit>& out);
  void on_error(Tree& t, std::uint16_t in_port, const wire::Packet& p, std::vector<Emit>& out);
  /// Counts the packet in `bucket` (one that dropped_packets() sums).
  void drop(EngineBucket bucket);
  SwitchConfig config_;
  EngineCounters counters_;
  EngineBucket dropped_as_ = nullptr;
  std::map<std::pair<std::uint32_t, std::uint16_t>, std::unique_ptr<Tree>> trees_;
};

}  // namespace inca::engine
