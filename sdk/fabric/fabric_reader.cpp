// Fabric files, version 1 (docs/fabric-files.md): element models, one
// generator under `topology:`, explicit hosts/switches/links, in one pass
// that collects every problem with its line and column.
#include "fabric/fabric_reader.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "fabric/element_fields.hpp"
#include "fabric/fabric_checks.hpp"
#include "fabric/generators.hpp"

namespace inca::fabric_file {
namespace {

constexpr std::uint64_t kMostGeneratedLinks = 1u << 20;

std::vector<std::string_view> with(std::vector<std::string_view> keys,
                                   const std::vector<std::string_view>& more) {
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

template <typename Fields>
std::vector<std::string> names_of(const std::map<std::string, Fields>& models) {
  std::vector<std::string> out;
  for (const auto& [name, f] : models) out.push_back(name);
  return out;
}

class FabricReader {
 public:
  FabricReader(YamlReader& r, const FabricOverrides& overrides) : r_(r), overrides_(overrides) {}

  std::optional<FabricDescription> read(const YAML::Node& root) {
    if (!r_.expect_map(root, "a fabric file")) return std::nullopt;
    r_.check_keys(root,
                  {"inca_fabric", "name", "description", "host_models", "switch_models",
                   "link_models", "topology", "hosts", "switches", "links"},
                  "the fabric file");
    if (!root["inca_fabric"]) {
      r_.error(SourceLocation{r_.file(), 1, 1},
               "not an inca fabric file: 'inca_fabric: 1' is missing",
               "the first key of a fabric file is its format version, inca_fabric: 1");
    } else if (auto v = r_.count(root, "inca_fabric", "the fabric file", 0, 1000); v && *v != 1) {
      r_.error(root["inca_fabric"], fmt::format("fabric format version {} is not supported", *v),
               "this inca reads version 1");
    }
    out_.name = r_.text(root, "name", "the fabric file").value_or("");
    (void)r_.text(root, "description", "the fabric file");
    read_models(root);
    if (const YAML::Node t = root["topology"]) read_topology(t);
    if (const YAML::Node h = root["hosts"]) read_hosts(h);
    if (const YAML::Node s = root["switches"]) read_switches(s);
    if (const YAML::Node l = root["links"]) read_links(l);
    if (overrides_.hosts && out_.generator.empty() && !r_.failed() &&
        *overrides_.hosts != out_.hosts.size())
      r_.error(SourceLocation{r_.file(), 1, 1},
               fmt::format("{} hosts asked for, but the file lists {} host by host",
                           *overrides_.hosts, out_.hosts.size()),
               "only a generated fabric (topology:) can be resized");
    out_.defaults = defaults_.take();
    if (r_.failed()) return std::nullopt;
    FabricOverrides after = overrides_;
    after.hosts.reset();  // honoured by the generator above
    if (Status s = out_.apply(after); !s.ok())
      r_.error(SourceLocation{r_.file(), 1, 1}, s.message());
    check_fabric(out_, r_);
    if (r_.failed()) return std::nullopt;
    return std::move(out_);
  }

 private:
  void read_models(const YAML::Node& root) {
    read_model_map(root["host_models"], "host_models", kHostKeys, models_hosts_,
                   [&](const YAML::Node& m, const std::string& what) {
                     return read_host_fields(r_, m, what);
                   });
    read_model_map(root["switch_models"], "switch_models", kSwitchKeys, models_switches_,
                   [&](const YAML::Node& m, const std::string& what) {
                     return read_switch_fields(r_, m, what);
                   });
    read_model_map(root["link_models"], "link_models", kLinkKeys, models_links_,
                   [&](const YAML::Node& m, const std::string& what) {
                     return read_link_fields(r_, m, what);
                   });
  }

  template <typename Fields, typename ReadFn>
  void read_model_map(const YAML::Node& node, const char* section,
                      const std::vector<std::string_view>& keys,
                      std::map<std::string, Fields>& into, ReadFn read_fields) {
    if (!node || !r_.expect_map(node, fmt::format("'{}'", section))) return;
    for (const auto& kv : node) {
      const std::string name = kv.first.Scalar();
      const std::string what = fmt::format("{} '{}'", section, name);
      if (!r_.expect_map(kv.second, what)) continue;
      r_.check_keys(kv.second, keys, what);
      if (!into.emplace(name, read_fields(kv.second, what)).second)
        r_.error(kv.first, fmt::format("{}: '{}' is defined twice", section, name));
    }
  }

  // `key` of `parent`: a model name, or an inline map that may name a model.
  // Returns the element's own fields and its model's (null when none).
  template <typename Fields, typename ReadFn>
  std::optional<std::pair<Fields, const Fields*>> layered(
      const YAML::Node& node, const std::string& what, const char* models_section,
      const std::vector<std::string_view>& keys, const std::map<std::string, Fields>& models,
      ReadFn read_fields, std::string& context, const std::vector<std::string_view>& extra) {
    Fields own;
    const Fields* model = nullptr;
    std::string model_name;
    if (node && node.IsScalar()) {
      model_name = node.Scalar();
    } else if (node) {
      if (!r_.expect_map(node, what)) return std::nullopt;
      r_.check_keys(node, with(with({"model"}, extra), keys), what);
      own = read_fields(node, what);
      model_name = r_.text(node, "model", what).value_or("");
    }
    if (!model_name.empty()) {
      auto it = models.find(model_name);
      if (it == models.end()) {
        const auto near = YamlReader::closest(model_name, names_of(models));
        r_.error(node.IsScalar() ? node : node["model"],
                 fmt::format("{}: no {} entry '{}'", what, models_section, model_name),
                 near ? fmt::format("did you mean '{}'?", *near) : "");
        return std::nullopt;
      }
      model = &it->second;
      context = fmt::format("{} '{}'", models_section, model_name);
    }
    return std::make_pair(std::move(own), model);
  }

  // One element (or a generator's template) from `node`: its own fields over
  // its model's over the defaults. `unmodelled` names it in the defaults log
  // when it has no model (default: `what`).
  template <typename Desc, typename Fields, typename ReadFn, typename ResolveFn>
  std::optional<Desc> element(const YAML::Node& node, const std::string& what, const char* section,
                              const std::vector<std::string_view>& keys,
                              const std::map<std::string, Fields>& models, ReadFn read_fields,
                              ResolveFn resolve, const std::vector<std::string_view>& extra,
                              const std::string& unmodelled) {
    std::string context = unmodelled.empty() ? what : unmodelled;
    auto l = layered(node, what, section, keys, models, read_fields, context, extra);
    if (!l) return std::nullopt;
    Desc d = resolve(l->first, l->second, context, defaults_);
    if constexpr (requires { d.model; }) d.model = l->second ? context : "";
    d.where = r_.at(node);
    return d;
  }

  std::optional<HostDescription> host_template(const YAML::Node& node, const std::string& what,
                                               const std::vector<std::string_view>& extra = {},
                                               const std::string& unmodelled = "") {
    return element<HostDescription>(
        node, what, "host_models", kHostKeys, models_hosts_,
        [&](const YAML::Node& m, const std::string& w) { return read_host_fields(r_, m, w); },
        resolve_host, extra, unmodelled);
  }

  std::optional<SwitchDescription> switch_template(const YAML::Node& node, const std::string& what,
                                                   const std::vector<std::string_view>& extra = {},
                                                   const std::string& unmodelled = "") {
    return element<SwitchDescription>(
        node, what, "switch_models", kSwitchKeys, models_switches_,
        [&](const YAML::Node& m, const std::string& w) { return read_switch_fields(r_, m, w); },
        resolve_switch, extra, unmodelled);
  }

  std::optional<LinkDescription> link_template(const YAML::Node& node, const std::string& what,
                                               const std::vector<std::string_view>& extra = {},
                                               const std::string& unmodelled = "") {
    return element<LinkDescription>(
        node, what, "link_models", kLinkKeys, models_links_,
        [&](const YAML::Node& m, const std::string& w) { return read_link_fields(r_, m, w); },
        resolve_link, extra, unmodelled);
  }

  // ---- generators -------------------------------------------------------

  void read_topology(const YAML::Node& t) {
    if (!r_.expect_map(t, "'topology'")) return;
    r_.check_keys(t, {"star", "leaf_spine", "fat_tree", "rail_leaf_spine"}, "'topology'");
    if (t.size() != 1) {
      r_.error(t, "'topology' names exactly one generator",
               "star, leaf_spine, fat_tree or rail_leaf_spine");
      return;
    }
    const std::string kind = t.begin()->first.Scalar();
    const YAML::Node g = t.begin()->second;
    const std::string what = fmt::format("the {} generator", kind);
    if (!r_.expect_map(g, what)) return;
    out_.generator = kind;
    const std::size_t first_host = out_.hosts.size(), first_switch = out_.switches.size(),
                      first_link = out_.links.size();
    if (kind == "star")
      star(g, what);
    else if (kind == "leaf_spine" || kind == "rail_leaf_spine")
      leaf_spine(g, what, kind == "rail_leaf_spine");
    else if (kind == "fat_tree")
      fat_tree(g, what);
    // Generated elements are located at their generator.
    const SourceLocation where = r_.at(t.begin()->first);
    for (std::size_t i = first_host; i < out_.hosts.size(); ++i) out_.hosts[i].where = where;
    for (std::size_t i = first_switch; i < out_.switches.size(); ++i)
      out_.switches[i].where = where;
    for (std::size_t i = first_link; i < out_.links.size(); ++i) out_.links[i].where = where;
  }

  std::optional<std::uint32_t> host_count(const YAML::Node& g, const std::string& what,
                                          std::uint32_t max) {
    if (overrides_.hosts) {
      if (*overrides_.hosts == 0 || *overrides_.hosts > max) {
        r_.error(
            g, fmt::format("{} hosts asked for {}; it takes 1..{}", *overrides_.hosts, what, max));
        return std::nullopt;
      }
      (void)r_.count(g, "hosts", what, 1, max);  // still checked
      return *overrides_.hosts;
    }
    auto n = r_.count(g, "hosts", what, 1, max);
    if (!n) return std::nullopt;
    return static_cast<std::uint32_t>(*n);
  }

  void star(const YAML::Node& g, const std::string& what) {
    r_.check_keys(g, {"hosts", "host", "switch", "link"}, what);
    if (!r_.require(g, {"hosts"}, what)) return;
    auto hosts = host_count(g, what, 65535);
    auto host = host_template(g["host"], what + " host");
    auto sw = switch_template(g["switch"], what + " switch");
    auto link = link_template(g["link"], what + " link");
    if (hosts && host && sw && link) generate_star(out_, *hosts, *host, *sw, *link);
  }

  void leaf_spine(const YAML::Node& g, const std::string& what, bool rails) {
    std::vector<std::string_view> keys = {
        "hosts", "hosts_per_leaf", "spines", "uplinks_per_leaf", "oversubscription",
        "host",  "leaf",           "spine",  "host_link",        "uplink"};
    keys.push_back(rails ? "rails" : "scale_up");
    r_.check_keys(g, keys, what);
    if (!r_.require(g, {"hosts", "hosts_per_leaf", "spines"}, what)) return;
    if (rails && !r_.require(g, {"rails"}, what)) return;
    LeafSpineShape shape;
    auto hosts = host_count(g, what, 65535);
    auto per_leaf = r_.count(g, "hosts_per_leaf", what, 1, 65535);
    auto spines = r_.count(g, "spines", what, 1, 4096);
    auto uplinks = r_.count(g, "uplinks_per_leaf", what, 1, 65535);
    auto rail_count = rails ? r_.count(g, "rails", what, 1, 64) : std::optional<std::uint64_t>(1);
    auto host = host_template(g["host"], what + " host");
    auto leaf = switch_template(g["leaf"], what + " leaf");
    auto spine = switch_template(g["spine"], what + " spine");
    auto host_link = link_template(g["host_link"], what + " host_link");
    auto uplink = link_template(g["uplink"], what + " uplink");
    if (!hosts || !per_leaf || !spines || !rail_count || !host || !leaf || !spine || !host_link ||
        !uplink)
      return;
    shape.hosts = *hosts;
    shape.hosts_per_leaf = static_cast<std::uint32_t>(*per_leaf);
    shape.spines = static_cast<std::uint32_t>(*spines);
    if (uplinks) shape.uplinks_per_leaf = static_cast<std::uint32_t>(*uplinks);
    if (g["oversubscription"]) {
      if (uplinks) {
        r_.error(g["oversubscription"],
                 fmt::format("{} gives both 'uplinks_per_leaf' and 'oversubscription'", what),
                 "the uplink count follows from the oversubscription; give one of them");
        return;
      }
      auto u = uplinks_for(g["oversubscription"], what, shape, *host, *host_link, *uplink);
      if (!u) return;
      shape.uplinks_per_leaf = *u;
    }
    if (shape.uplinks_per_leaf != 0 && shape.uplinks_per_leaf % shape.spines != 0) {
      r_.error(g["uplinks_per_leaf"] ? g["uplinks_per_leaf"] : g["oversubscription"],
               fmt::format("{}: {} uplinks per leaf do not divide evenly over {} spines", what,
                           shape.uplinks_per_leaf, shape.spines),
               "every leaf must reach every spine equally: use a multiple of 'spines'");
      return;
    }
    // Every host port and every uplink is a link; past a million the fabric
    // would take gigabytes before any check could speak.
    const std::uint64_t leaves = (shape.hosts + shape.hosts_per_leaf - 1) / shape.hosts_per_leaf;
    // (A scale-up domain adds one more link per host.)
    const std::uint64_t links = (shape.hosts + leaves * shape.uplinks_per_leaf) * *rail_count +
                                (g["scale_up"] ? shape.hosts : 0);
    if (links > kMostGeneratedLinks) {
      r_.error(g,
               fmt::format("{} would have {} links; a fabric file generates at most {}", what,
                           links, kMostGeneratedLinks),
               "fewer hosts or uplinks per leaf");
      return;
    }
    if (rails) {
      if (host->ports.size() < *rail_count) {
        r_.error(g["host"] ? g["host"] : g,
                 fmt::format("{}: the host has {} port(s) for {} rails", what, host->ports.size(),
                             *rail_count),
                 "give the host model one port per rail (ports: [...])");
        return;
      }
      generate_rail_leaf_spine(out_, shape, static_cast<std::uint32_t>(*rail_count), *host, *leaf,
                               *spine, *host_link, *uplink);
    } else if (const YAML::Node up = g["scale_up"]) {
      scale_up(up, what, shape, *host, *leaf, *spine, *host_link, *uplink);
    } else {
      generate_leaf_spine(out_, shape, *host, *leaf, *spine, *host_link, *uplink);
    }
  }

  // A leaf-spine whose hosts also share scale-up domains (NVLink): the host
  // port named by `port` goes to its domain's switch, the host's first other
  // port to its leaf.
  void scale_up(const YAML::Node& up, const std::string& leaf_spine_what,
                const LeafSpineShape& shape, const HostDescription& host,
                const SwitchDescription& leaf, const SwitchDescription& spine,
                const LinkDescription& host_link, const LinkDescription& uplink) {
    const std::string what = leaf_spine_what + " scale_up";
    if (!r_.expect_map(up, what)) return;
    r_.check_keys(up, {"hosts_per_domain", "port", "switch", "link"}, what);
    if (!r_.require(up, {"hosts_per_domain", "port"}, what)) return;
    auto per_domain = r_.count(up, "hosts_per_domain", what, 1, 65535);
    auto port = r_.text(up, "port", what);
    auto sw = switch_template(up["switch"], what + " switch");
    auto link = link_template(up["link"], what + " link");
    if (!per_domain || !port || !sw || !link) return;
    const auto named = [&](const HostPortDescription& p) { return p.name == *port; };
    const auto other = [&](const HostPortDescription& p) { return p.name != *port; };
    if (std::find_if(host.ports.begin(), host.ports.end(), named) == host.ports.end() ||
        host.ports.size() < 2) {
      std::vector<std::string> names;
      for (const HostPortDescription& p : host.ports) names.push_back(p.name);
      r_.error(up["port"],
               fmt::format("{}: port '{}' is not one of the host's other ports ({})", what, *port,
                           fmt::join(names, ", ")),
               "give the host model a port for its leaf and one for its domain (ports: [...])");
      return;
    }
    generate_leaf_spine(out_, shape, host, leaf, spine, host_link, uplink,
                        std::find_if(host.ports.begin(), host.ports.end(), other)->name);
    generate_scale_up_domains(out_, shape.hosts, {static_cast<std::uint32_t>(*per_domain), *port},
                              *sw, *link);
  }

  // Uplinks per leaf giving `ratio`:1 (down capacity over up capacity), or
  // an error with the numbers when that is no whole multiple of the spines.
  std::optional<std::uint32_t> uplinks_for(const YAML::Node& n, const std::string& what,
                                           const LeafSpineShape& shape, const HostDescription& host,
                                           const LinkDescription& host_link,
                                           const LinkDescription& uplink) {
    std::string text = n.IsScalar() ? n.Scalar() : "";
    if (text.size() > 2 && text.substr(text.size() - 2) == ":1") text.resize(text.size() - 2);
    char* end = nullptr;
    const double ratio = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !(ratio >= 1)) {
      r_.error(
          n, fmt::format("'oversubscription' of {} is '{}'", what, n.IsScalar() ? n.Scalar() : ""),
          "a ratio of at least 1, e.g. 2 or 2:1");
      return std::nullopt;
    }
    const double down = shape.hosts_per_leaf * std::min(host.ports[0].gbps, host_link.gbps);
    const double exact = down / (ratio * uplink.gbps);
    const auto count = static_cast<std::uint32_t>(std::llround(exact));
    if (std::abs(exact - count) > 1e-9 || count == 0 || count % shape.spines != 0) {
      r_.error(n,
               fmt::format("{}: {}:1 needs {:g} uplinks of {:g} Gb/s per leaf ({:g} Gb/s down); "
                           "that is no whole multiple of {} spines",
                           what, ratio, exact, uplink.gbps, down, shape.spines),
               "give 'uplinks_per_leaf' instead, or a ratio that comes out whole");
      return std::nullopt;
    }
    return count;
  }

  void fat_tree(const YAML::Node& g, const std::string& what) {
    r_.check_keys(g,
                  {"k", "hosts", "host", "edge", "aggregation", "core", "host_link", "edge_link",
                   "core_link"},
                  what);
    if (!r_.require(g, {"k"}, what)) return;
    auto k = r_.count(g, "k", what, 2, 64);  // 65,536 hosts, as the other generators
    if (!k) return;
    if (*k % 2 != 0) {
      r_.error(g["k"], fmt::format("'k' of {} is {}; a k-ary fat tree needs an even k", what, *k));
      return;
    }
    const auto capacity = static_cast<std::uint32_t>(*k * *k * *k / 4);
    std::optional<std::uint32_t> hosts = capacity;
    if (g["hosts"] || overrides_.hosts) hosts = host_count(g, what, capacity);
    auto host = host_template(g["host"], what + " host");
    auto edge = switch_template(g["edge"], what + " edge");
    auto agg = switch_template(g["aggregation"], what + " aggregation");
    auto core = switch_template(g["core"], what + " core");
    auto host_link = link_template(g["host_link"], what + " host_link");
    auto edge_link = link_template(g["edge_link"], what + " edge_link");
    auto core_link = link_template(g["core_link"], what + " core_link");
    if (hosts && host && edge && agg && core && host_link && edge_link && core_link)
      generate_fat_tree(out_, static_cast<std::uint32_t>(*k), *hosts, *host, *edge, *agg, *core,
                        *host_link, *edge_link, *core_link);
  }

  // ---- explicit elements --------------------------------------------------

  void read_hosts(const YAML::Node& list) {
    if (!r_.expect_list(list, "'hosts'")) return;
    for (const YAML::Node& e : list) {
      if (!r_.expect_map(e, "a host") || !r_.require(e, {"name"}, "a host")) continue;
      const std::string name = r_.text(e, "name", "a host").value_or("");
      if (auto h =
              host_template(e, fmt::format("host '{}'", name), {"name"}, "hosts without a model")) {
        h->name = name;
        out_.hosts.push_back(std::move(*h));
      }
    }
  }

  void read_switches(const YAML::Node& list) {
    if (!r_.expect_list(list, "'switches'")) return;
    for (const YAML::Node& e : list) {
      if (!r_.expect_map(e, "a switch") || !r_.require(e, {"name"}, "a switch")) continue;
      const std::string name = r_.text(e, "name", "a switch").value_or("");
      if (auto s = switch_template(e, fmt::format("switch '{}'", name), {"name"},
                                   "switches without a model")) {
        s->name = name;
        if (!e["tier"] && s->model.empty()) defaults_.note("switches without a model", "tier", "1");
        out_.switches.push_back(std::move(*s));
      }
    }
  }

  void read_links(const YAML::Node& list) {
    if (!r_.expect_list(list, "'links'")) return;
    for (const YAML::Node& e : list) {
      if (!r_.expect_map(e, "a link") || !r_.require(e, {"a", "b"}, "a link")) continue;
      auto a = r_.text(e, "a", "a link");
      auto b = r_.text(e, "b", "a link");
      if (!a || !b) continue;
      auto link = link_template(e, fmt::format("link {} - {}", *a, *b), {"a", "b"},
                                "links without a model");
      if (!link) continue;
      link->a = split_end(*a);
      link->b = split_end(*b);
      out_.links.push_back(std::move(*link));
    }
  }

  static LinkEnd split_end(const std::string& text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos) return {text, ""};
    return {text.substr(0, colon), text.substr(colon + 1)};
  }

  YamlReader& r_;
  const FabricOverrides& overrides_;
  FabricDescription out_;
  DefaultsLog defaults_;
  std::map<std::string, HostFields> models_hosts_;
  std::map<std::string, SwitchFields> models_switches_;
  std::map<std::string, LinkFields> models_links_;
};

}  // namespace

FabricLoad read_fabric(const std::string& text, const std::string& file,
                       const FabricOverrides& overrides) {
  YamlReader r(file);
  FabricLoad load;
  if (auto root = r.parse(text)) {
    FabricReader reader(r, overrides);
    load.description = reader.read(*root);
    if (load.description) load.description->source = file;
  }
  load.diagnostics = std::move(r.diagnostics());
  return load;
}

}  // namespace inca::fabric_file
