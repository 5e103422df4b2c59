// A fabric as a user describes it: hosts with their NIC ports and software
// costs, switches with their forwarding and aggregation timing and resources,
// and the links between them, each with its own rate, latency and MTU. Loaded
// from a YAML fabric file (docs/fabric-files.md) or a preset (presets/), built
// by a generator (star, leaf-spine, fat tree, rail-optimised) or element by
// element, and used by every command and by World::create.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inca/caps.hpp"
#include "inca/status.hpp"
#include "inca/time.hpp"

namespace inca {

/// Where something came from in a fabric or job file: 1-based line and
/// column, 0 for things built in code.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

enum class Severity : std::uint8_t { error, warning, note };
std::string_view to_string(Severity severity);

/// One finding about a file: printed as `file:line:col: error: message`,
/// followed by the hint (e.g. "did you mean 'latency'?") when there is one.
struct Diagnostic {
  Severity severity = Severity::error;
  SourceLocation where;
  std::string message;
  std::string hint;
  std::string to_string() const;
};

/// What a host pays in software and on its NIC for each message (LogGP's o
/// and g), and how fast it reduces.
struct HostTiming {
  Time send_overhead = 0;  ///< o_s: from posting a message to its first byte on the NIC
  Time recv_overhead = 0;  ///< o_r: from a message's last byte to the program having it
  Time gap = 0;            ///< g: least time between two messages sent (or received) by one host
  double reduce_gbps = 0;  ///< host reduction speed; 0: free
};

/// One NIC port of a host.
struct HostPortDescription {
  std::string name;     ///< e.g. "nic0", "ib0", "nvlink"
  double gbps = 100.0;  ///< the port's line rate; a link to it runs at most at this rate
};

struct HostDescription {
  std::string name;
  std::vector<HostPortDescription> ports;  ///< at least one
  HostTiming timing;
  /// Aggregation chunks it keeps in flight (the slots its trees take): what
  /// streaming aggregation sustains, or SHARP's per-job OST quota; 0: the
  /// job's FabricOptions::window.
  std::uint32_t window = 0;
  std::string model;  ///< the host model it was made from ("" when written inline)
  SourceLocation where;
};

/// Which part of a switch a streaming (SAT) lock holds (SHARP: Quantum locks
/// the whole switch, Quantum-2 a port).
enum class StreamingLock : std::uint8_t { per_switch, per_port };
std::string_view to_string(StreamingLock lock);

struct SwitchDescription {
  std::string name;
  std::uint32_t tier = 1;        ///< 1 next to the hosts, growing toward the core
  std::uint32_t radix = 0;       ///< ports; 0: as many as its links
  Time forwarding_latency = 0;   ///< port to port, paid by every packet that leaves it
  Time aggregation_latency = 0;  ///< pipeline latency of one contribution through the ALU
  double aggregation_gbps = 0;   ///< ALU payload throughput; 0: unlimited
  double aggregation_pps = 0;    ///< ALU contributions per second; 0: unlimited
  std::uint32_t slots = 512;     ///< outstanding transactions (SHARP's OSTs)
  std::uint32_t slot_payload_bytes = 2048;  ///< largest payload per slot
  SwitchCaps caps = {};                     ///< dtype/op pairs it aggregates
  bool aggregates = true;                   ///< false: a plain forwarding switch
  std::uint32_t max_llt_trees = 511;        ///< low-latency trees it can hold
  std::uint32_t max_sat_trees = 511;        ///< streaming trees it can hold
  StreamingLock streaming_lock = StreamingLock::per_port;
  std::string model;
  SourceLocation where;
};

/// One end of a link: a node by name and, for a host with several ports,
/// the port's name ("" for the only one; switches number ports by link order).
struct LinkEnd {
  std::string node;
  std::string port;
};

struct LinkDescription {
  LinkEnd a, b;
  double gbps = 100.0;                 ///< a to b
  double reverse_gbps = 100.0;         ///< b to a (equal unless the link is asymmetric)
  Time latency = 500 * kPicosPerNano;  ///< propagation, each direction
  std::uint32_t mtu = 4096;            ///< largest inca packet (header + payload)
  SourceLocation where;
};

/// Values that replace what a description says, for every element at once:
/// the command-line flags and INCA_* knobs given beside a fabric file.
struct FabricOverrides {
  std::optional<std::uint32_t> hosts;  ///< generated files: the generator's host count
  std::optional<double> link_gbps;
  std::optional<Time> link_latency;
  std::optional<std::uint32_t> mtu;
  std::optional<std::uint32_t> switch_slots;
  std::optional<std::uint32_t> slot_bytes;
  std::optional<SwitchCaps> switch_caps;
  std::optional<Time> forwarding_latency;
  std::optional<Time> aggregation_latency;
  std::optional<double> aggregation_gbps;
  std::optional<Time> send_overhead;
  std::optional<Time> recv_overhead;
  std::optional<Time> gap;
  std::optional<double> host_reduce_gbps;
  std::optional<std::uint32_t> window;  ///< every host's window (HostDescription::window)
  bool empty() const;
  /// "link rate 400 Gb/s, MTU 4096 B" for a report's header.
  std::string describe() const;
};

struct FabricLoad;

struct FabricDescription {
  std::string name;
  std::string source;     ///< the file it was loaded from ("" when built in code)
  std::string generator;  ///< "star", "leaf_spine", ...; "" when written element by element
  std::vector<HostDescription> hosts;
  std::vector<SwitchDescription> switches;
  std::vector<LinkDescription> links;
  /// Every default that filled a missing field, e.g. "switch model 'q2':
  /// aggregation_latency = 0 ns (default)".
  std::vector<std::string> defaults;

  /// Reads a fabric file. `overrides.hosts` resizes a generated fabric
  /// before it is built; the other overrides apply afterwards (apply()).
  static FabricLoad load(const std::string& path, const FabricOverrides& overrides = {});
  /// The same from text; `file` names it in diagnostics.
  static FabricLoad parse(const std::string& yaml, const std::string& file,
                          const FabricOverrides& overrides = {});
  /// The path of preset `name` (presets/<name>.yaml, or $INCA_PRESETS/<name>.yaml),
  /// or not_supported listing the presets there are.
  static Result<std::string> preset_path(const std::string& name);

  /// Replaces values as `overrides` says (all but `hosts`, which only a
  /// generator can honour: invalid_argument when it differs from the hosts here).
  Status apply(const FabricOverrides& overrides);
  /// The same fabric written element by element (hosts, switches, links,
  /// every value explicit): loading it builds an identical fabric.
  std::string to_yaml() const;
  /// What `inca describe` prints: counts, links per rate, bisection bandwidth
  /// and oversubscription per tier, defaults used.
  std::string summary() const;

  /// Index of the host / switch called `name`, or nullopt.
  std::optional<std::size_t> find_host(const std::string& name) const;
  std::optional<std::size_t> find_switch(const std::string& name) const;
};

/// The outcome of loading a file: the description when there was no error,
/// and every finding either way (warnings and notes do not stop a load).
struct FabricLoad {
  std::optional<FabricDescription> description;
  std::vector<Diagnostic> diagnostics;
  bool ok() const;
  /// Every diagnostic, one per line.
  std::string report() const;
};

inline bool FabricLoad::ok() const {
  return description.has_value();
}

}  // namespace inca
