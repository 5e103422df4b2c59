// A World is N ranks on one fabric: the topology, the switches with their
// aggregation engines, the aggregation manager and the rank programs. Today
// the fabric is the discrete-event simulator; the same rank code runs on the
// other fabrics.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "inca/caps.hpp"
#include "inca/cost_model.hpp"
#include "inca/fabric_description.hpp"
#include "inca/faults.hpp"
#include "inca/job_identity.hpp"
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

/// How finely the simulator models traffic. `packet`: every wire packet is
/// an event. `segment`: a coarse mode for payload-free runs, where one
/// simulated packet stands for up to FabricOptions::segment_packets wire
/// packets, pipelined across hops (docs/model.md gives its measured error).
enum class SimMode : std::uint8_t { packet, segment };
std::string_view to_string(SimMode mode);
/// "packet" or "segment"; nothing for anything else.
std::optional<SimMode> parse_sim_mode(std::string_view text);

/// Everything that describes a fabric. Defaults are the benchmark's default
/// fabric: 64 ranks on a leaf-spine of 100 Gb/s links.
///
/// The fabric itself comes from one of, in this order: `description`, the
/// file `fabric_file`, the preset `preset` (presets/<name>.yaml), or else the
/// built-in star / leaf-spine that the fields from `topology` to
/// `switch_aggregation_gbps` describe (every link and switch alike). With a
/// description, file or preset those fields are not used: `overrides` (which
/// `inca bench` fills from the flags given and apply_env_overrides from the
/// INCA_* knobs set) replaces its values instead, and `ranks` is its host count.
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
  /// Slots a tree takes = chunks in flight per host, unless the fabric's
  /// hosts give a window (HostDescription::window; overrides.window replaces theirs).
  std::uint32_t window = 64;
  /// Ranks per host group of the "hierarchical" all-reduce; 0: the hosts of
  /// one leaf switch (hosts_per_leaf on a leaf-spine, every rank on a star).
  std::uint32_t hierarchical_group = 0;
  /// What every switch aggregates, and per switch name ("leaf0", "spine1",
  /// "switch0" on a star) what that switch aggregates instead. A tree
  /// aggregates what all its switches do (Communicator::caps()).
  SwitchCaps switch_caps = {};
  std::map<std::string, SwitchCaps> switch_caps_by_name = {};
  bool timing_only = false;  ///< payload-free mode: sizes and times, no data
  /// Simulator granularity; `segment` needs timing_only, the sim fabric and no faults.
  SimMode sim_mode = SimMode::packet;
  std::uint32_t segment_packets = 128;  ///< wire packets per segment in segment mode (2..1024)
  /// Wire packets per point-to-point segment in segment mode (1..1024; up
  /// to segment_packets, whichever is fewer). Finer than in-network
  /// chunks: where two jobs' messages share a link, packet mode interleaves
  /// them packet by packet and a segment passes whole, so coarse
  /// point-to-point segments put Rabenseifner at 1 MiB 9 % off packet mode
  /// (16: 2 %; docs/model.md).
  std::uint32_t p2p_segment_packets = 16;
  double host_reduce_gbps = 0;          ///< host reduction speed in the simulator (0 = free)
  Time host_send_overhead = 0;          ///< LogGP o on sending, per message (HostTiming)
  Time host_recv_overhead = 0;          ///< LogGP o on receiving, per message
  Time host_gap = 0;                    ///< LogGP g: least time between one host's messages
  Time switch_forwarding_latency = 0;   ///< per switch a packet leaves
  Time switch_aggregation_latency = 0;  ///< per contribution through a switch's ALU
  double switch_aggregation_gbps = 0;   ///< ALU payload rate of every switch (0: unlimited)
  /// Simulator only: called every ~256 Ki events of a run with the events
  /// processed so far and the virtual time (progress of long runs).
  std::function<void(std::uint64_t events, Time now)> progress = {};
  /// A fabric file (YAML, docs/fabric-files.md) or a preset name.
  std::string fabric_file = {};
  std::string preset = {};
  /// A description built in code; used before fabric_file and preset.
  std::shared_ptr<const FabricDescription> description = {};
  /// What replaces the description's values (see above).
  FabricOverrides overrides = {};
  Time retransmit_timeout = 10 * kPicosPerMilli;
  std::uint32_t job = 1;
  std::uint32_t key_tag = 0x1ca0cafe;
  /// On a described fabric (description, file or preset), every tree of the
  /// world's communicators is booked as this job on its switches: quota,
  /// tree limits, payload per slot, streaming lock (docs/job-files.md). A
  /// tree that does not fit leaves in-network collectives unavailable.
  JobIdentity job_identity = {};
  std::size_t fiber_stack_bytes = 256 * 1024;
  /// What goes wrong on the fabric (sim only; other fabrics refuse a non-empty plan).
  FaultPlan faults = {};
  /// Retransmission and switch-failure handling (docs/reliability.md).
  RecoveryOptions recovery = {};
  /// A timeline of every run for Perfetto / chrome://tracing (docs/tracing.md);
  /// off while `trace.file` is empty.
  TraceOptions trace = {};
};

class World {
 public:
  /// Builds the fabric and asks the manager for the world communicator's
  /// tree. A tree that does not fit is no error: in-network algorithms then
  /// report why they are unavailable and `auto` falls back.
  static Result<std::unique_ptr<World>> create(const FabricOptions& options);
  /// The same on a described fabric (`options` for everything else; its
  /// `overrides` apply to the description).
  static Result<std::unique_ptr<World>> create(const FabricDescription& fabric,
                                               FabricOptions options);
  /// The fabric a World would be built on: the description, file or preset
  /// with the overrides applied, or the built-in fabric of the fields.
  static Result<FabricDescription> describe_fabric(const FabricOptions& options);
  ~World();

  /// Runs `rank_main` on every rank until all return.
  Status run(const std::function<void(Communicator&)>& rank_main);

  std::uint32_t size() const;
  Time now() const;
  /// The options the world was made with; `ranks` is its host count.
  const FabricOptions& options() const;
  /// The fabric it runs on, element by element.
  const FabricDescription& fabric() const;
  /// Topology and tree in one line each.
  std::string describe() const;
  /// The fabric and the world's tree as a Graphviz drawing (DOT text).
  std::string dot() const;
  /// Why in-network collectives are unavailable (ok when they are).
  Status innet_status() const;
  /// Tree height in switch levels (0 when there is no tree).
  std::uint32_t tree_levels() const;
  /// Contributions the switch called `name` has aggregated so far (0 for
  /// no such switch): which switches a collective's traffic went through.
  std::uint64_t switch_contributions(const std::string& name) const;
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
