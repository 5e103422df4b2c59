#include "fabric/fabric_checks.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "wire/header.hpp"

namespace inca::fabric_file {
namespace {

std::string end_text(const LinkEnd& e) {
  return e.port.empty() ? e.node : e.node + ":" + e.port;
}

// Rate of a link direction leaving `from`: a host port caps its own link.
double egress_gbps(const FabricDescription& f, const ResolvedEnd& from, double link_gbps) {
  return from.host ? std::min(link_gbps, f.hosts[from.index].ports[from.port].gbps) : link_gbps;
}

}  // namespace

std::optional<std::vector<std::pair<ResolvedEnd, ResolvedEnd>>> resolve_links(
    const FabricDescription& f, YamlReader* sink) {
  std::unordered_map<std::string, ResolvedEnd> by_name;
  bool ok = true;
  auto fail = [&](const SourceLocation& where, std::string message, std::string hint = "") {
    ok = false;
    if (sink) sink->error(where, std::move(message), std::move(hint));
  };
  std::vector<std::string> names;
  for (std::uint32_t i = 0; i < f.hosts.size(); ++i)
    if (!by_name.emplace(f.hosts[i].name, ResolvedEnd{true, i, 0}).second)
      fail(f.hosts[i].where, fmt::format("two elements are named '{}'", f.hosts[i].name));
  for (std::uint32_t i = 0; i < f.switches.size(); ++i)
    if (!by_name.emplace(f.switches[i].name, ResolvedEnd{false, i, 0}).second)
      fail(f.switches[i].where, fmt::format("two elements are named '{}'", f.switches[i].name));
  std::set<std::pair<std::uint32_t, std::uint16_t>> used_ports;
  std::vector<std::pair<ResolvedEnd, ResolvedEnd>> out;
  out.reserve(f.links.size());
  for (const LinkDescription& l : f.links) {
    ResolvedEnd ends[2];
    bool resolved = true;
    for (int k = 0; k < 2; ++k) {
      const LinkEnd& e = k == 0 ? l.a : l.b;
      auto it = by_name.find(e.node);
      if (it == by_name.end()) {
        if (names.empty()) {
          for (const auto& h : f.hosts) names.push_back(h.name);
          for (const auto& s : f.switches) names.push_back(s.name);
        }
        const auto near = YamlReader::closest(e.node, names);
        fail(l.where,
             fmt::format("link {} - {}: no host or switch named '{}'", end_text(l.a), end_text(l.b),
                         e.node),
             near ? fmt::format("did you mean '{}'?", *near) : "");
        resolved = false;
        continue;
      }
      ends[k] = it->second;
      if (!ends[k].host) {
        if (!e.port.empty()) {
          fail(l.where, fmt::format("link end '{}': switch ports are numbered by link order, "
                                    "not named",
                                    end_text(e)));
          resolved = false;
        }
        continue;
      }
      const HostDescription& h = f.hosts[ends[k].index];
      if (e.port.empty() && h.ports.size() > 1) {
        fail(l.where,
             fmt::format("link end '{}': host '{}' has {} ports; say which", e.node, h.name,
                         h.ports.size()),
             fmt::format("e.g. '{}:{}'", h.name, h.ports[0].name));
        resolved = false;
        continue;
      }
      auto port = std::find_if(h.ports.begin(), h.ports.end(), [&](const HostPortDescription& p) {
        return e.port.empty() || p.name == e.port;
      });
      if (port == h.ports.end()) {
        fail(l.where,
             fmt::format("link end '{}': host '{}' has no port '{}'", end_text(e), h.name, e.port));
        resolved = false;
        continue;
      }
      ends[k].port = static_cast<std::uint16_t>(port - h.ports.begin());
      if (!used_ports.insert({ends[k].index, ends[k].port}).second) {
        fail(l.where, fmt::format("host port '{}:{}' has a second link", h.name, port->name),
             "a NIC port takes one link; give the host another port");
        resolved = false;
      }
    }
    if (!resolved) continue;
    if (ends[0].host && ends[1].host) {
      fail(l.where, fmt::format("link {} - {} joins two hosts", end_text(l.a), end_text(l.b)),
           "hosts do not forward: join each to a switch");
      continue;
    }
    if (!ends[0].host && !ends[1].host && ends[0].index == ends[1].index) {
      fail(l.where,
           fmt::format("link {} - {} joins a switch to itself", end_text(l.a), end_text(l.b)));
      continue;
    }
    out.emplace_back(ends[0], ends[1]);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::vector<TierLoad> tier_loads(const FabricDescription& f,
                                 const std::vector<std::pair<ResolvedEnd, ResolvedEnd>>& links) {
  // Per switch: capacity toward lower tiers (hosts count as tier 0) and upper ones.
  std::vector<double> down(f.switches.size()), up(f.switches.size());
  for (std::size_t i = 0; i < links.size(); ++i) {
    const auto& [a, b] = links[i];
    const LinkDescription& l = f.links[i];
    auto tier = [&](const ResolvedEnd& e) { return e.host ? 0u : f.switches[e.index].tier; };
    for (int k = 0; k < 2; ++k) {
      const ResolvedEnd& self = k == 0 ? a : b;
      const ResolvedEnd& peer = k == 0 ? b : a;
      if (self.host) continue;
      // What flows into this switch from the peer: the peer's egress rate.
      const double in = egress_gbps(f, peer, k == 0 ? l.reverse_gbps : l.gbps);
      if (tier(peer) < tier(self)) down[self.index] += in;
      if (tier(peer) > tier(self))
        up[self.index] += egress_gbps(f, self, k == 0 ? l.gbps : l.reverse_gbps);
    }
  }
  std::map<std::uint32_t, TierLoad> worst;
  for (std::uint32_t s = 0; s < f.switches.size(); ++s) {
    if (up[s] <= 0 || down[s] <= 0) continue;
    const double ratio = down[s] / up[s];
    TierLoad& t = worst[f.switches[s].tier];
    if (t.worst.empty() || ratio > t.ratio)
      t = {f.switches[s].tier, ratio, down[s], up[s], f.switches[s].name};
  }
  std::vector<TierLoad> out;
  for (auto& [tier, load] : worst) out.push_back(load);
  return out;
}

void check_fabric(const FabricDescription& f, YamlReader& sink) {
  const SourceLocation top{f.source.empty() ? sink.file() : f.source, 1, 1};
  if (f.hosts.empty()) sink.error(top, "the fabric has no hosts");
  if (f.switches.empty())
    sink.error(top, "the fabric has no switches", "hosts reach each other only through switches");
  auto links = resolve_links(f, &sink);
  if (!links) return;

  // Radix, and ports per host.
  std::vector<std::uint32_t> degree(f.switches.size());
  std::vector<std::uint32_t> host_links(f.hosts.size());
  std::vector<std::vector<std::uint32_t>> adjacency(f.switches.size());
  std::vector<std::vector<std::uint32_t>> host_switches(f.hosts.size());
  for (const auto& [a, b] : *links) {
    for (const ResolvedEnd* e : {&a, &b}) {
      if (e->host)
        ++host_links[e->index];
      else
        ++degree[e->index];
    }
    if (!a.host && !b.host) {
      adjacency[a.index].push_back(b.index);
      adjacency[b.index].push_back(a.index);
    } else {
      const ResolvedEnd& h = a.host ? a : b;
      const ResolvedEnd& s = a.host ? b : a;
      host_switches[h.index].push_back(s.index);
    }
  }
  for (std::uint32_t s = 0; s < f.switches.size(); ++s) {
    const SwitchDescription& sw = f.switches[s];
    if (sw.radix != 0 && degree[s] > sw.radix)
      sink.error(sw.where, fmt::format("switch '{}' has {} links but a radix of {}", sw.name,
                                       degree[s], sw.radix));
  }
  for (std::uint32_t h = 0; h < f.hosts.size(); ++h) {
    const HostDescription& host = f.hosts[h];
    if (host_links[h] == 0)
      sink.error(host.where, fmt::format("host '{}' has no link", host.name));
    else if (host_links[h] < host.ports.size())
      sink.warning(host.where, fmt::format("host '{}' uses {} of its {} ports", host.name,
                                           host_links[h], host.ports.size()));
  }

  // Every host reaches every other one through switches.
  if (!f.hosts.empty() && host_links[0] > 0) {
    std::vector<bool> seen(f.switches.size());
    std::deque<std::uint32_t> queue;
    for (std::uint32_t s : host_switches[0])
      if (!seen[s]) seen[s] = true, queue.push_back(s);
    while (!queue.empty()) {
      const std::uint32_t u = queue.front();
      queue.pop_front();
      for (std::uint32_t v : adjacency[u])
        if (!seen[v]) seen[v] = true, queue.push_back(v);
    }
    std::vector<std::string> cut;
    for (std::uint32_t h = 1; h < f.hosts.size(); ++h) {
      const auto& sw = host_switches[h];
      if (!sw.empty() &&
          std::none_of(sw.begin(), sw.end(), [&](std::uint32_t s) { return seen[s]; }))
        cut.push_back(f.hosts[h].name);
    }
    if (!cut.empty())
      sink.error(f.hosts[0].where,
                 fmt::format("{} host(s) cannot reach host '{}': {}{}", cut.size(), f.hosts[0].name,
                             fmt::join(cut.begin(),
                                       cut.begin() + std::min<std::size_t>(cut.size(), 5), ", "),
                             cut.size() > 5 ? ", ..." : ""));
  }

  // A link must carry a header and the payload of every slot at its ends.
  for (std::size_t i = 0; i < links->size(); ++i) {
    const auto& [a, b] = (*links)[i];
    const LinkDescription& l = f.links[i];
    for (const ResolvedEnd* e : {&a, &b}) {
      if (e->host) {
        const HostPortDescription& port = f.hosts[e->index].ports[e->port];
        const double rate = e == &a ? l.gbps : l.reverse_gbps;
        if (rate > port.gbps)
          sink.warning(l.where,
                       fmt::format("link {} - {} runs at {:g} Gb/s, above the {:g} Gb/s of "
                                   "port {}:{}; it carries {:g} Gb/s",
                                   end_text(l.a), end_text(l.b), rate, port.gbps,
                                   f.hosts[e->index].name, port.name, port.gbps));
        continue;
      }
      const SwitchDescription& sw = f.switches[e->index];
      if (sw.aggregates && l.mtu < wire::kHeaderBytes + sw.slot_payload_bytes)
        sink.error(l.where,
                   fmt::format("link {} - {}: MTU {} B cannot carry switch '{}''s slot payload of "
                               "{} B behind the {} B header",
                               end_text(l.a), end_text(l.b), l.mtu, sw.name, sw.slot_payload_bytes,
                               wire::kHeaderBytes),
                   fmt::format("raise the MTU to at least {} B or lower slot_payload",
                               wire::kHeaderBytes + sw.slot_payload_bytes));
    }
  }

  for (const TierLoad& t : tier_loads(f, *links))
    if (t.ratio > 1.0 + 1e-9)
      sink.warning(top, fmt::format("tier {} is oversubscribed {:.3g}:1 (switch '{}': {:g} Gb/s "
                                    "down, {:g} Gb/s up)",
                                    t.tier, t.ratio, t.worst, t.down_gbps, t.up_gbps));
}

}  // namespace inca::fabric_file
