#include "fabric/generators.hpp"

#include <fmt/format.h>

namespace inca::fabric_file {
namespace {

void add_host(FabricDescription& out, const HostDescription& tmpl, std::string name) {
  HostDescription h = tmpl;
  h.name = std::move(name);
  out.hosts.push_back(std::move(h));
}

void add_switch(FabricDescription& out, const SwitchDescription& tmpl, std::string name,
                std::uint32_t tier) {
  SwitchDescription s = tmpl;
  s.name = std::move(name);
  s.tier = tier;
  out.switches.push_back(std::move(s));
}

void add_link(FabricDescription& out, const LinkDescription& tmpl, LinkEnd a, LinkEnd b) {
  LinkDescription l = tmpl;
  l.a = std::move(a);
  l.b = std::move(b);
  out.links.push_back(std::move(l));
}

// Each leaf's uplinks: j-th to spine j mod spines.
void add_uplinks(FabricDescription& out, const std::vector<std::string>& leaves,
                 std::uint32_t spines, std::uint32_t uplinks, const LinkDescription& uplink) {
  for (const std::string& leaf : leaves)
    for (std::uint32_t j = 0; j < uplinks; ++j)
      add_link(out, uplink, {leaf, ""}, {fmt::format("spine{}", j % spines), ""});
}

}  // namespace

void generate_star(FabricDescription& out, std::uint32_t hosts, const HostDescription& host,
                   const SwitchDescription& sw, const LinkDescription& host_link) {
  add_switch(out, sw, "switch0", 1);
  for (std::uint32_t h = 0; h < hosts; ++h) add_host(out, host, fmt::format("host{}", h));
  for (std::uint32_t h = 0; h < hosts; ++h)
    add_link(out, host_link, {fmt::format("host{}", h), ""}, {"switch0", ""});
}

void generate_leaf_spine(FabricDescription& out, const LeafSpineShape& shape,
                         const HostDescription& host, const SwitchDescription& leaf,
                         const SwitchDescription& spine, const LinkDescription& host_link,
                         const LinkDescription& uplink, const std::string& host_port) {
  const std::uint32_t leaves = (shape.hosts + shape.hosts_per_leaf - 1) / shape.hosts_per_leaf;
  std::vector<std::string> leaf_names;
  for (std::uint32_t l = 0; l < leaves; ++l) {
    leaf_names.push_back(fmt::format("leaf{}", l));
    add_switch(out, leaf, leaf_names.back(), 1);
  }
  for (std::uint32_t s = 0; s < shape.spines; ++s)
    add_switch(out, spine, fmt::format("spine{}", s), 2);
  for (std::uint32_t h = 0; h < shape.hosts; ++h) add_host(out, host, fmt::format("host{}", h));
  for (std::uint32_t h = 0; h < shape.hosts; ++h)
    add_link(out, host_link, {fmt::format("host{}", h), host_port},
             {leaf_names[h / shape.hosts_per_leaf], ""});
  add_uplinks(out, leaf_names, shape.spines,
              shape.uplinks_per_leaf == 0 ? shape.spines : shape.uplinks_per_leaf, uplink);
}

void generate_scale_up_domains(FabricDescription& out, std::uint32_t hosts,
                               const ScaleUpShape& shape, const SwitchDescription& sw,
                               const LinkDescription& link) {
  const std::uint32_t domains = (hosts + shape.hosts_per_domain - 1) / shape.hosts_per_domain;
  for (std::uint32_t d = 0; d < domains; ++d) add_switch(out, sw, fmt::format("domain{}", d), 1);
  for (std::uint32_t h = 0; h < hosts; ++h)
    add_link(out, link, {fmt::format("host{}", h), shape.port},
             {fmt::format("domain{}", h / shape.hosts_per_domain), ""});
}

void generate_fat_tree(FabricDescription& out, std::uint32_t k, std::uint32_t hosts,
                       const HostDescription& host, const SwitchDescription& edge,
                       const SwitchDescription& aggregation, const SwitchDescription& core,
                       const LinkDescription& host_link, const LinkDescription& edge_link,
                       const LinkDescription& core_link) {
  const std::uint32_t half = k / 2;
  for (std::uint32_t p = 0; p < k; ++p)
    for (std::uint32_t i = 0; i < half; ++i)
      add_switch(out, edge, fmt::format("edge{}_{}", p, i), 1);
  for (std::uint32_t p = 0; p < k; ++p)
    for (std::uint32_t i = 0; i < half; ++i)
      add_switch(out, aggregation, fmt::format("agg{}_{}", p, i), 2);
  for (std::uint32_t c = 0; c < half * half; ++c)
    add_switch(out, core, fmt::format("core{}", c), 3);
  for (std::uint32_t h = 0; h < hosts; ++h) add_host(out, host, fmt::format("host{}", h));
  // Host h: pod h / (k/2)^2, edge (h / (k/2)) mod (k/2).
  for (std::uint32_t h = 0; h < hosts; ++h)
    add_link(out, host_link, {fmt::format("host{}", h), ""},
             {fmt::format("edge{}_{}", h / (half * half), (h / half) % half), ""});
  for (std::uint32_t p = 0; p < k; ++p)
    for (std::uint32_t e = 0; e < half; ++e)
      for (std::uint32_t a = 0; a < half; ++a)
        add_link(out, edge_link, {fmt::format("edge{}_{}", p, e), ""},
                 {fmt::format("agg{}_{}", p, a), ""});
  for (std::uint32_t p = 0; p < k; ++p)
    for (std::uint32_t a = 0; a < half; ++a)
      for (std::uint32_t c = 0; c < half; ++c)
        add_link(out, core_link, {fmt::format("agg{}_{}", p, a), ""},
                 {fmt::format("core{}", a * half + c), ""});
}

void generate_rail_leaf_spine(FabricDescription& out, const LeafSpineShape& shape,
                              std::uint32_t rails, const HostDescription& host,
                              const SwitchDescription& leaf, const SwitchDescription& spine,
                              const LinkDescription& host_link, const LinkDescription& uplink) {
  const std::uint32_t groups = (shape.hosts + shape.hosts_per_leaf - 1) / shape.hosts_per_leaf;
  std::vector<std::string> leaf_names;
  for (std::uint32_t g = 0; g < groups; ++g)
    for (std::uint32_t r = 0; r < rails; ++r) {
      leaf_names.push_back(fmt::format("rail{}_leaf{}", r, g));
      add_switch(out, leaf, leaf_names.back(), 1);
    }
  for (std::uint32_t s = 0; s < shape.spines; ++s)
    add_switch(out, spine, fmt::format("spine{}", s), 2);
  for (std::uint32_t h = 0; h < shape.hosts; ++h) add_host(out, host, fmt::format("host{}", h));
  for (std::uint32_t h = 0; h < shape.hosts; ++h)
    for (std::uint32_t r = 0; r < rails; ++r)
      add_link(out, host_link, {fmt::format("host{}", h), host.ports[r].name},
               {fmt::format("rail{}_leaf{}", r, h / shape.hosts_per_leaf), ""});
  add_uplinks(out, leaf_names, shape.spines,
              shape.uplinks_per_leaf == 0 ? shape.spines : shape.uplinks_per_leaf, uplink);
}

}  // namespace inca::fabric_file
