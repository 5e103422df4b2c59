// A World is N ranks on one fabric: the topology, the switches with their
// aggregation engines, the aggregation manager and the rank programs. Today
// the fabric is the discrete-event simulator; the same rank code runs on the
// other fabrics.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "inca/caps.hpp"
#include "inca/cost_model.hpp"
#include "inca/faults.hpp"
#include "inca/stats.hpp"
#include "inca/status.hpp"
#include "inca/time.hpp"
#include "inca/trace.hpp"

namespace inca {

class Communicator;

enum class TopologyKind : std::uint8_t { star, leaf_spine };
std::string_view to_string(TopologyKind kind);

/// Which fabric drives the protocol: the discrete-event simulator (virtual
/// time) or the threaded software switch (wall-clock time).
enum class FabricKind : std::uint8_t { sim, live };
std::string_view to_string(FabricKind kind);

/// Everything that describes a fabric. Defaults are the benchmark's default
/// fabric: 64 ranks on a leaf-spine of 100 Gb/s links.
struct FabricOptions {
  FabricKind fabric = FabricKind::sim;
  TopologyKind topology = TopologyKind::leaf_spine;
  std::uint32_t ranks = 64;
  std::uint32_t hosts_per_leaf = 8;
  std::uint32_t spines = 2;
  double link_gbps = 100.0;            ///< every link's rate
  Time latency = 500 * kPicosPerNano;  ///< per link: propagation plus switching
  std::uint32_t mtu = 4096;            ///< largest inca packet (header + payload)
  std::uint32_t switch_slots = 512;    ///< slot pool of every switch
  std::uint32_t slot_bytes = 2048;     ///< payload per slot
  std::uint32_t window = 64;           ///< slots a tree takes = chunks in flight per host
  /// Ranks per host group of the "hierarchical" all-reduce; 0: the hosts of
  /// one leaf switch (hosts_per_leaf on a leaf-spine, every rank on a star).
  std::uint32_t hierarchical_group = 0;
  /// What every switch aggregates, and per switch name ("leaf0", "spine1",
  /// "switch0" on a star) what that switch aggregates instead. A tree
  /// aggregates what all its switches do (Communicator::caps()).
  SwitchCaps switch_caps = {};
  std::map<std::string, SwitchCaps> switch_caps_by_name = {};
  bool timing_only = false;     ///< payload-free mode: sizes and times, no data
  double host_reduce_gbps = 0;  ///< host reduction speed in the simulator (0 = free)
  Time retransmit_timeout = 10 * kPicosPerMilli;
  std::uint32_t job = 1;
  std::uint32_t key_tag = 0x1ca0cafe;
  std::size_t fiber_stack_bytes = 256 * 1024;
  /// What goes wrong on the fabric (sim only; other fabrics refuse a non-empty plan).
  FaultPlan faults;
  /// Retransmission and switch-failure handling (docs/reliability.md).
  RecoveryOptions recovery;
  /// A timeline of every run for Perfetto / chrome://tracing (docs/tracing.md);
  /// off while `trace.file` is empty.
  TraceOptions trace;
};

class World {
 public:
  /// Builds the fabric and asks the manager for the world communicator's
  /// tree. A tree that does not fit is no error: in-network algorithms then
  /// report why they are unavailable and `auto` falls back.
  static Result<std::unique_ptr<World>> create(const FabricOptions& options);
  ~World();

  /// Runs `rank_main` on every rank until all return.
  Status run(const std::function<void(Communicator&)>& rank_main);

  std::uint32_t size() const;
  Time now() const;
  const FabricOptions& options() const;
  /// Topology and tree in one line each.
  std::string describe() const;
  /// The fabric and the world's tree as a Graphviz drawing (DOT text).
  std::string dot() const;
  /// Why in-network collectives are unavailable (ok when they are).
  Status innet_status() const;
  /// Tree height in switch levels (0 when there is no tree).
  std::uint32_t tree_levels() const;
  /// Wire bytes host `rank`'s NIC has sent so far.
  std::uint64_t nic_tx_bytes(std::uint32_t rank) const;
  WorldStats stats() const;
  /// The fabric as the cost model sees it (docs/model.md).
  ModelFabric model_fabric() const;

  class Impl;

 private:
  explicit World(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inca
