// The fields of a host, switch or link as one layer of a fabric file gives
// them (a model, an element, a generator's template), each possibly missing,
// and how the layers resolve: the element's own value, else its model's,
// else the built-in default, which is recorded so `inca describe` can list
// every default that filled a missing field.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fabric/yaml_reader.hpp"
#include "inca/fabric_description.hpp"

namespace inca::fabric_file {

struct HostFields {
  std::optional<std::vector<HostPortDescription>> ports;
  std::optional<Time> send_overhead, recv_overhead, gap;
  std::optional<double> reduce_gbps;
  std::optional<std::uint32_t> window;
};

struct SwitchFields {
  std::optional<std::uint32_t> tier, radix, slots, slot_payload, llt_trees, sat_trees;
  std::optional<Time> forwarding_latency, aggregation_latency;
  std::optional<double> aggregation_gbps, aggregation_pps;
  std::optional<std::uint32_t> dtypes, ops;
  std::optional<bool> aggregates;
  std::optional<StreamingLock> streaming_lock;
};

struct LinkFields {
  std::optional<double> gbps, reverse_gbps;
  std::optional<Time> latency;
  std::optional<std::uint32_t> mtu;
};

/// The keys each kind of element takes (besides name/model/a/b).
extern const std::vector<std::string_view> kHostKeys;
extern const std::vector<std::string_view> kSwitchKeys;
extern const std::vector<std::string_view> kLinkKeys;

/// Reads the fields present in `map` (the caller checked its keys).
HostFields read_host_fields(YamlReader& r, const YAML::Node& map, const std::string& what);
SwitchFields read_switch_fields(YamlReader& r, const YAML::Node& map, const std::string& what);
LinkFields read_link_fields(YamlReader& r, const YAML::Node& map, const std::string& what);

/// Records "context: field = value (default)" once per context and field.
class DefaultsLog {
 public:
  void note(const std::string& context, const char* field, const std::string& value);
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  std::set<std::string> seen_;
  std::vector<std::string> lines_;
};

/// Resolves `own` over `model` (either may lack any field) over the defaults.
HostDescription resolve_host(const HostFields& own, const HostFields* model,
                             const std::string& context, DefaultsLog& log);
SwitchDescription resolve_switch(const SwitchFields& own, const SwitchFields* model,
                                 const std::string& context, DefaultsLog& log);
LinkDescription resolve_link(const LinkFields& own, const LinkFields* model,
                             const std::string& context, DefaultsLog& log);

}  // namespace inca::fabric_file
