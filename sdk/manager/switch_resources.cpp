#include "manager/switch_resources.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <memory>
#include <tuple>

#include <fmt/format.h>

#include "fabric/fabric_checks.hpp"

namespace inca::manager {
namespace {
constexpr std::uint32_t kUnreached = std::numeric_limits<std::uint32_t>::max();
}

// The fabric as trees need it: switch-to-switch links, and the switch (and
// link) each host reaches first.
struct SwitchResources::Graph {
  struct Edge {
    std::uint32_t peer = 0, link = 0;
  };
  std::vector<std::vector<Edge>> switch_edges;
  std::vector<Edge> host_uplink;  // peer: switch index; kUnreached when the host has none
  std::vector<std::uint32_t> distances_from(const FabricDescription& f, std::uint32_t root) const {
    std::vector<std::uint32_t> d(switch_edges.size(), kUnreached);
    if (!f.switches[root].aggregates) return d;
    std::deque<std::uint32_t> queue{root};
    d[root] = 0;
    while (!queue.empty()) {
      const std::uint32_t u = queue.front();
      queue.pop_front();
      for (const Edge& e : switch_edges[u])
        if (d[e.peer] == kUnreached && f.switches[e.peer].aggregates) {
          d[e.peer] = d[u] + 1;
          queue.push_back(e.peer);
        }
    }
    return d;
  }
};

SwitchResources::SwitchResources(const FabricDescription& fabric,
                                 const std::array<std::uint32_t, 10>& quota_percent)
    : fabric_(fabric),
      quota_percent_(quota_percent),
      usage_(fabric.switches.size()),
      rooted_(fabric.switches.size()) {
  auto g = std::make_shared<Graph>();
  g->switch_edges.resize(fabric.switches.size());
  g->host_uplink.assign(fabric.hosts.size(), {kUnreached, 0});
  if (auto links = fabric_file::resolve_links(fabric, nullptr)) {
    for (std::uint32_t i = 0; i < links->size(); ++i) {
      const auto& [a, b] = (*links)[i];
      if (!a.host && !b.host) {
        g->switch_edges[a.index].push_back({b.index, i});
        g->switch_edges[b.index].push_back({a.index, i});
      } else {
        const auto& h = a.host ? a : b;
        const auto& s = a.host ? b : a;
        if (g->host_uplink[h.index].peer == kUnreached) g->host_uplink[h.index] = {s.index, i};
      }
    }
  }
  graph_ = std::move(g);
}

Result<std::vector<AllocatedTree>> SwitchResources::plan_trees(
    const JobResourceRequest& req) const {
  const FabricDescription& f = fabric_;
  struct Candidate {
    std::uint32_t root, levels;
    std::vector<std::uint32_t> distance;
  };
  std::vector<Candidate> candidates;
  for (std::uint32_t root = 0; root < f.switches.size(); ++root) {
    auto d = graph_->distances_from(f, root);
    std::uint32_t levels = 0;
    bool spans = true;
    for (std::uint32_t h : req.hosts) {
      const std::uint32_t leaf = graph_->host_uplink[h].peer;
      if (leaf == kUnreached || d[leaf] == kUnreached) {
        spans = false;
        break;
      }
      levels = std::max(levels, d[leaf] + 1);
    }
    if (spans) candidates.push_back({root, levels, std::move(d)});
  }
  if (candidates.size() < req.trees)
    return make_error(StatusCode::no_tree,
                      fmt::format("job '{}' asks for {} tree(s) over its {} hosts, but {} "
                                  "aggregating switch(es) can root one",
                                  req.job, req.trees, req.hosts.size(), candidates.size()));
  // Shortest trees first; among equals the root with the fewest trees, so
  // jobs and a job's trees spread over the top tier.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](const Candidate& a, const Candidate& b) {
                     if (a.levels != b.levels) return a.levels < b.levels;
                     return rooted_[a.root] < rooted_[b.root];
                   });
  std::vector<AllocatedTree> trees;
  for (std::uint32_t t = 0; t < req.trees; ++t) {
    const Candidate& c = candidates[t];
    AllocatedTree tree{c.root, c.levels, {}};
    std::map<std::uint32_t, std::size_t> at;  // switch -> index in tree.switches
    auto node = [&](std::uint32_t sw) -> TreeSwitch& {
      auto [it, fresh] = at.emplace(sw, tree.switches.size());
      if (fresh) tree.switches.push_back({sw, -1, {}, {}, {}});
      return tree.switches[it->second];
    };
    node(c.root);
    for (std::uint32_t h : req.hosts) {
      const Graph::Edge up = graph_->host_uplink[h];
      node(up.peer).child_hosts.push_back(h);
      node(up.peer).links.push_back(up.link);
      // Climb toward the root: the first neighbour one hop nearer.
      for (std::uint32_t sw = up.peer; sw != c.root;) {
        if (node(sw).parent >= 0) break;
        for (const Graph::Edge& e : graph_->switch_edges[sw]) {
          if (c.distance[e.peer] + 1 != c.distance[sw]) continue;
          node(sw).parent = e.peer;
          node(sw).links.push_back(e.link);
          node(e.peer).child_switches.push_back(sw);
          node(e.peer).links.push_back(e.link);
          sw = e.peer;
          break;
        }
      }
    }
    trees.push_back(std::move(tree));
  }
  return trees;
}

Status SwitchResources::check_request(const JobResourceRequest& req) const {
  if (live_.count(req.job))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("job '{}' already holds resources", req.job));
  if (req.hosts.empty() || req.trees == 0 || req.slots == 0 || req.priority > 9)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("job '{}': hosts, trees and slots must not be empty, priority "
                                  "0..9",
                                  req.job));
  for (std::uint32_t h : req.hosts)
    if (h >= fabric_.hosts.size())
      return make_error(StatusCode::invalid_argument,
                        fmt::format("job '{}': host index {} is not in the fabric", req.job, h));
  return {};
}

Result<JobGrant> SwitchResources::allocate(const JobResourceRequest& req) {
  INCA_RETURN_IF_ERROR(check_request(req));
  auto trees = plan_trees(req);
  if (!trees.ok()) return trees.status();
  return reserve(req, std::move(*trees));
}

Result<JobGrant> SwitchResources::allocate(const JobResourceRequest& req,
                                           std::vector<AllocatedTree> trees) {
  INCA_RETURN_IF_ERROR(check_request(req));
  if (trees.size() != req.trees)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("job '{}' asks for {} tree(s) and brings {}", req.job, req.trees,
                                  trees.size()));
  for (const AllocatedTree& t : trees)
    for (const TreeSwitch& s : t.switches)
      if (s.switch_index >= fabric_.switches.size())
        return make_error(
            StatusCode::invalid_argument,
            fmt::format("job '{}': switch index {} is not in the fabric", req.job, s.switch_index));
  return reserve(req, std::move(trees));
}

void SwitchResources::set_quota_percent(std::uint32_t priority, std::uint32_t percent) {
  if (priority < quota_percent_.size()) quota_percent_[priority] = percent;
}

Result<JobGrant> SwitchResources::reserve(const JobResourceRequest& req,
                                          std::vector<AllocatedTree> trees) {
  Live live;
  live.priority = req.priority;
  for (const AllocatedTree& t : trees)
    for (const TreeSwitch& s : t.switches) {
      SwitchUsage& u = live.per_switch[s.switch_index];
      u.slots += req.slots;
      u.payload_bytes += std::uint64_t{req.slots} * req.payload_bytes;
      u.llt_trees += 1;
      u.sat_trees += req.streaming ? 1 : 0;
    }
  for (const auto& [index, want] : live.per_switch) {
    const SwitchDescription& sw = fabric_.switches[index];
    const SwitchUsage& used = usage_[index];
    if (req.payload_bytes > sw.slot_payload_bytes)
      return make_error(StatusCode::no_resource,
                        fmt::format("job '{}': payload per slot {} B is above switch '{}''s {} B",
                                    req.job, req.payload_bytes, sw.name, sw.slot_payload_bytes));
    const std::uint32_t quota =
        static_cast<std::uint32_t>(std::uint64_t{sw.slots} * quota_percent_[req.priority] / 100);
    if (want.slots > quota)
      return make_error(StatusCode::quota_exceeded,
                        fmt::format("job '{}' needs {} slots on switch '{}'; priority {}'s quota "
                                    "is {}% of {} = {}",
                                    req.job, want.slots, sw.name, req.priority,
                                    quota_percent_[req.priority], sw.slots, quota));
    if (used.slots + want.slots > sw.slots)
      return make_error(StatusCode::no_resource,
                        fmt::format("job '{}' needs {} slots on switch '{}', which has {} of {} "
                                    "free",
                                    req.job, want.slots, sw.name, sw.slots - used.slots, sw.slots));
    for (const auto& [kind, need, held, limit] :
         {std::tuple{"low-latency", want.llt_trees, used.llt_trees, sw.max_llt_trees},
          std::tuple{"streaming", want.sat_trees, used.sat_trees, sw.max_sat_trees}})
      if (held + need > limit)
        return make_error(StatusCode::no_resource,
                          fmt::format("job '{}' needs {} {} tree(s) on switch '{}', which holds {} "
                                      "of its {}",
                                      req.job, need, kind, sw.name, held, limit));
  }
  JobGrant& g = live.grant;
  g.job = req.job;
  g.slots = req.slots;
  g.payload_bytes = req.payload_bytes;
  g.streaming = req.streaming;
  for (const auto& [index, want] : live.per_switch) {
    g.caps = g.caps & fabric_.switches[index].caps;
    SwitchUsage& u = usage_[index];
    u.slots += want.slots;
    u.payload_bytes += want.payload_bytes;
    u.llt_trees += want.llt_trees;
    u.sat_trees += want.sat_trees;
  }
  g.trees = std::move(trees);
  for (const AllocatedTree& t : g.trees) ++rooted_[t.root];
  JobGrant out = g;
  live_.emplace(req.job, std::move(live));
  return out;
}

std::vector<SwitchResources::LockUnit> SwitchResources::lock_units(const Live& live) const {
  std::set<LockUnit> units;
  for (const AllocatedTree& t : live.grant.trees)
    for (const TreeSwitch& s : t.switches) {
      if (fabric_.switches[s.switch_index].streaming_lock == StreamingLock::per_switch)
        units.insert({s.switch_index, kWholeSwitch});
      else
        for (std::uint32_t link : s.links) units.insert({s.switch_index, link});
    }
  return {units.begin(), units.end()};
}

Status SwitchResources::lock_streaming(const std::string& job) {
  auto it = live_.find(job);
  if (it == live_.end() || !it->second.grant.streaming)
    return make_error(StatusCode::lock_denied,
                      fmt::format("job '{}' holds no streaming tree to lock", job));
  const std::vector<LockUnit> units = lock_units(it->second);
  for (const LockUnit& u : units) {
    auto held = locks_.find(u);
    if (held == locks_.end() || held->second == job) continue;
    const std::string& name = fabric_.switches[u.first].name;
    const std::string where =
        u.second == kWholeSwitch ? fmt::format("switch '{}'", name)
                                 : fmt::format("switch '{}' (the port of link {})", name, u.second);
    return make_error(StatusCode::lock_failed,
                      fmt::format("job '{}': the streaming lock on {} is held by job '{}'; "
                                  "retry when it is released",
                                  job, where, held->second));
  }
  for (const LockUnit& u : units) locks_[u] = job;
  return {};
}

void SwitchResources::unlock_streaming(const std::string& job) {
  std::erase_if(locks_, [&](const auto& kv) { return kv.second == job; });
}

Status SwitchResources::release(const std::string& job) {
  auto it = live_.find(job);
  if (it == live_.end())
    return make_error(StatusCode::invalid_argument, fmt::format("job '{}' holds nothing", job));
  unlock_streaming(job);
  for (const auto& [index, held] : it->second.per_switch) {
    SwitchUsage& u = usage_[index];
    u.slots -= held.slots;
    u.payload_bytes -= held.payload_bytes;
    u.llt_trees -= held.llt_trees;
    u.sat_trees -= held.sat_trees;
  }
  for (const AllocatedTree& t : it->second.grant.trees) --rooted_[t.root];
  live_.erase(it);
  return {};
}

std::vector<Holding> SwitchResources::holdings() const {
  std::vector<Holding> out;
  for (const auto& [job, live] : live_)
    for (const auto& [index, usage] : live.per_switch) {
      const double quota =
          double(fabric_.switches[index].slots) * quota_percent_[live.priority] / 100.0;
      out.push_back({job, index, usage, quota > 0 ? usage.slots / quota : 0});
    }
  std::stable_sort(out.begin(), out.end(), [](const Holding& a, const Holding& b) {
    return a.switch_index < b.switch_index;
  });
  return out;
}

std::string SwitchResources::lock_holder(std::uint32_t switch_index, std::uint32_t link) const {
  const bool whole = fabric_.switches[switch_index].streaming_lock == StreamingLock::per_switch;
  auto it = locks_.find({switch_index, whole ? kWholeSwitch : link});
  return it == locks_.end() ? "" : it->second;
}

}  // namespace inca::manager
