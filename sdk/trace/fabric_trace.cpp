#include "trace/fabric_trace.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>

namespace inca::trace {
namespace {

// Which fault counter moved between two readings names the loss.
std::string_view loss_cause(const FaultCounters& before, const FaultCounters& after) {
  if (after.dropped != before.dropped) return "packet dropped";
  if (after.corrupt_detected != before.corrupt_detected) return "packet corrupted (CRC drop)";
  if (after.link_down_drops != before.link_down_drops) return "packet lost: link down";
  if (after.switch_down_drops != before.switch_down_drops) return "packet lost: switch down";
  return "packet lost";
}

std::optional<std::uint32_t> find_node(const topology::Topology& topology, std::string_view name) {
  for (std::uint32_t id = 0; id < topology.nodes().size(); ++id)
    if (topology.node(id).name == name) return id;
  return std::nullopt;
}

}  // namespace

Time trace_interval(const TraceOptions& options, bool wall_clock) {
  if (options.interval > 0) return options.interval;
  return wall_clock ? 100 * kPicosPerMicro : 5 * kPicosPerMicro;
}

FabricTrace::FabricTrace(std::shared_ptr<ChromeTraceFile> file, const topology::Topology& topology,
                         fabric::Fabric& fabric, const TraceOptions& options,
                         const FaultPlan& faults)
    : TraceSink(options.detail),
      file_(std::move(file)),
      topology_(topology),
      fabric_(fabric),
      options_(options),
      faults_(faults) {
  const auto& nodes = topology_.nodes();
  for (std::uint32_t id = 0; id < nodes.size(); ++id) {
    first_link_.push_back(links_.size());
    for (const topology::Port& p : nodes[id].ports) {
      const topology::Node& peer = nodes[p.peer_node];
      const bool host_link =
          nodes[id].kind == topology::NodeKind::host || peer.kind == topology::NodeKind::host;
      links_.push_back(LinkState{fmt::format("{} -> {}", nodes[id].name, peer.name),
                                 host_link ? Track::host_links : Track::switch_links,
                                 static_cast<std::uint32_t>(links_.size()),
                                 LinkSampler(options_.interval)});
    }
  }
  for (std::uint32_t sw : topology_.switch_nodes()) switches_[sw].seen = read_switch(sw);
  hosts_.resize(topology_.host_count());
  for (std::uint32_t r = 0; r < hosts_.size(); ++r) {
    const auto& c = fabric_.endpoint(r).counters();
    hosts_[r] = {c.retransmissions, c.p2p_retransmissions, c.timeouts};
  }
  faults_seen_ = fabric_.fault_counters();
}

FabricTrace::~FabricTrace() {
  std::lock_guard lock(mutex_);
  flush_links(kNever);
  for (auto& [node, s] : switches_) sample_switch(node, last_, true);
  // Planned outages that the run reached.
  for (const SwitchOutage& o : faults_.switch_outages) {
    const auto node = find_node(topology_, o.name);
    if (!node) continue;
    file_->name_thread(Track::switches, *node, o.name);
    if (o.down_at <= last_)
      file_->instant(Track::switches, *node, "switch down (planned)", at(o.down_at), {});
    if (o.up_at <= last_)
      file_->instant(Track::switches, *node, "switch up again, empty (planned)", at(o.up_at), {});
  }
  for (const LinkOutage& o : faults_.link_outages)
    for (const std::string& from : {o.a, o.b}) {
      const std::string to = from == o.a ? o.b : o.a;
      const auto node = find_node(topology_, from);
      const auto peer = find_node(topology_, to);
      if (!node || !peer) continue;
      for (std::uint16_t port = 0; port < topology_.node(*node).ports.size(); ++port) {
        if (topology_.node(*node).ports[port].peer_node != *peer) continue;
        const LinkState& l = link(*node, port);
        name_link(l);
        if (o.down_at <= last_) file_->instant(l.track, l.tid, "link down", at(o.down_at), {});
        if (o.up_at <= last_) file_->instant(l.track, l.tid, "link up", at(o.up_at), {});
      }
    }
}

FabricTrace::LinkState& FabricTrace::link(std::uint32_t node, std::uint16_t port) {
  return links_[first_link_[node] + port];
}

void FabricTrace::name_link(const LinkState& l) {
  file_->name_thread(l.track, l.tid, l.name);
}

void FabricTrace::run_started(Time now) {
  std::lock_guard lock(mutex_);
  // Another world may have written past this one's clock since its last run.
  offset_ = std::max(offset_, file_->end() - now);
  last_ = std::max(last_, now);
}

void FabricTrace::run_ended(Time now) {
  std::lock_guard lock(mutex_);
  last_ = std::max(last_, now);
  flush_links(kNever);
  for (auto& [node, s] : switches_) sample_switch(node, now, true);
  for (std::uint32_t r = 0; r < hosts_.size(); ++r) sample_host(r, now);
}

void FabricTrace::flush_links(Time now) {
  for (LinkState& l : links_)
    l.sampler.flush(now, [&](const LinkSampler::Sample& s) {
      file_->counter(l.track, l.name, at(s.at),
                     {{"utilisation", s.utilisation},
                      {"in_flight_bytes", static_cast<double>(s.in_flight_bytes)},
                      {"tx_bytes", static_cast<double>(s.tx_bytes)}});
    });
}

void FabricTrace::link_send(std::uint32_t node, std::uint16_t port, Time now, Time tx_begin,
                            Time tx_end, Time arrival, const wire::Packet& packet) {
  std::lock_guard lock(mutex_);
  last_ = std::max(last_, now);
  LinkState& l = link(node, port);
  l.sampler.send(now, tx_begin, tx_end, arrival, packet.wire_bytes(),
                 [&](const LinkSampler::Sample& s) {
                   file_->counter(l.track, l.name, at(s.at),
                                  {{"utilisation", s.utilisation},
                                   {"in_flight_bytes", static_cast<double>(s.in_flight_bytes)},
                                   {"tx_bytes", static_cast<double>(s.tx_bytes)}});
                 });
  if (detail() < TraceDetail::packets) return;
  name_link(l);
  file_->slice(l.track, l.tid, "packet", wire::to_string(packet.header.type), at(tx_begin),
               at(tx_end),
               {{"sequence", static_cast<std::int64_t>(packet.header.sequence)},
                {"bytes", static_cast<std::int64_t>(packet.wire_bytes())},
                {"arrival_us", to_micros(at(arrival))}});
}

void FabricTrace::packet_lost(std::uint32_t node, std::uint16_t port, Time now) {
  std::lock_guard lock(mutex_);
  const FaultCounters after = fabric_.fault_counters();
  const std::string_view cause = loss_cause(faults_seen_, after);
  faults_seen_ = after;
  const LinkState& l = link(node, port);
  name_link(l);
  file_->instant(l.track, l.tid, cause, at(now), {});
}

FabricTrace::SwitchCounts FabricTrace::read_switch(std::uint32_t node) const {
  const engine::EngineCounters* c = fabric_.switch_counters(node);
  if (!c) return {};
  return {c->contributions, c->results, c->duplicates, engine::dropped_packets(*c)};
}

void FabricTrace::write_switch(std::uint32_t node, std::int64_t interval, const SwitchState& s) {
  file_->counter(Track::switches, topology_.node(node).name, at(interval * options_.interval),
                 {{"slots_in_use", static_cast<double>(s.slots_in_use)},
                  {"contributions", static_cast<double>(s.counted.contributions)},
                  {"results", static_cast<double>(s.counted.results)},
                  {"duplicates", static_cast<double>(s.counted.duplicates)},
                  {"drops", static_cast<double>(s.counted.drops)}});
}

void FabricTrace::sample_switch(std::uint32_t node, Time now, bool final) {
  SwitchState& s = switches_[node];
  const std::int64_t interval = now / options_.interval;
  if (interval != s.interval) {
    const bool zero = s.slots_in_use == 0 && s.counted.contributions == 0 &&
                      s.counted.results == 0 && s.counted.duplicates == 0 && s.counted.drops == 0;
    if (s.interval >= 0 && !(zero && s.last_was_zero)) write_switch(node, s.interval, s);
    // A quiet gap: the counters drop to zero where it starts.
    if (s.interval >= 0 && interval > s.interval + 1 && !zero)
      write_switch(node, s.interval + 1, SwitchState{});
    s.last_was_zero = zero;
    s.interval = interval;
    s.counted = {};
    const engine::AggregationNode* e = fabric_.engine(node);
    s.slots_in_use = e ? e->slots_in_use() : 0;
  }
  // A restarted engine counts from zero again.
  const SwitchCounts c = read_switch(node);
  auto delta = [](std::uint64_t now_value, std::uint64_t before) {
    return now_value >= before ? now_value - before : now_value;
  };
  s.counted.contributions += delta(c.contributions, s.seen.contributions);
  s.counted.results += delta(c.results, s.seen.results);
  s.counted.duplicates += delta(c.duplicates, s.seen.duplicates);
  s.counted.drops += delta(c.drops, s.seen.drops);
  s.seen = c;
  if (!final) return;
  write_switch(node, s.interval, s);
  // The next touch starts a fresh interval; its samples follow these.
  s.last_was_zero = false;
  s.interval = -1;
  s.counted = {};
  s.slots_in_use = 0;
}

void FabricTrace::switch_touched(std::uint32_t node, Time now) {
  std::lock_guard lock(mutex_);
  last_ = std::max(last_, now);
  sample_switch(node, now, false);
}

void FabricTrace::sample_host(std::uint32_t rank, Time now) {
  HostState& h = hosts_[rank];
  const auto& c = fabric_.endpoint(rank).counters();
  const Lane lane{rank, 0};
  auto note = [&](std::uint64_t now_value, std::uint64_t& before, std::string_view name,
                  std::string_view kind) {
    if (now_value == before) return;
    file_->name_thread(Track::ranks, lane_tid(lane), fmt::format("rank {}", rank));
    file_->instant(
        Track::ranks, lane_tid(lane), name, at(now),
        {{"count", static_cast<std::int64_t>(now_value - before)}, {"kind", std::string(kind)}});
    before = now_value;
  };
  note(c.retransmissions, h.innet_retransmissions, "retransmit", "in-network chunk");
  note(c.p2p_retransmissions, h.p2p_retransmissions, "retransmit", "point-to-point fragment");
  note(c.timeouts, h.timeouts, "operation timed out", "retransmissions ran out");
}

void FabricTrace::host_touched(std::uint32_t rank, Time now) {
  std::lock_guard lock(mutex_);
  last_ = std::max(last_, now);
  if (rank < hosts_.size()) sample_host(rank, now);
}

void FabricTrace::switch_restarted(std::uint32_t node, Time now) {
  std::lock_guard lock(mutex_);
  const std::string& name = topology_.node(node).name;
  file_->name_thread(Track::switches, node, name);
  file_->instant(Track::switches, node, "switch restarted without its trees and slots", at(now),
                 {{"switch", name}});
}

Lane FabricTrace::lane(std::uint32_t rank, std::uint64_t fiber) {
  if (fiber == 0) return {rank, 0};
  std::lock_guard lock(mutex_);
  auto [it, fresh] = fiber_lanes_.try_emplace({rank, fiber});
  if (fresh) {
    // The lowest lane no other fiber of the rank holds.
    std::set<std::uint32_t> held;
    for (const auto& [key, l] : fiber_lanes_)
      if (key.first == rank && key != it->first) held.insert(l.lane);
    std::uint32_t free = 1;
    while (held.count(free)) ++free;
    it->second = {rank, std::min<std::uint32_t>(free, 127)};
  }
  return it->second;
}

void FabricTrace::fiber_done(std::uint32_t rank, std::uint64_t fiber) {
  std::lock_guard lock(mutex_);
  fiber_lanes_.erase({rank, fiber});
}

void FabricTrace::open(Lane lane) {
  std::lock_guard lock(mutex_);
  lanes_[lane_tid(lane)].depth++;
}

void FabricTrace::span(Lane lane, std::string_view category, std::string_view name, Time begin,
                       Time end, const Args& args) {
  std::lock_guard lock(mutex_);
  const std::uint32_t tid = lane_tid(lane);
  LaneState& l = lanes_[tid];
  l.depth = std::max(0, l.depth - 1);
  l.spans.push_back({begin, end, l.depth, std::string(category), std::string(name), args});
  if (l.depth > 0) return;
  // Parents before children: by start, then the longer (outer) one first.
  std::sort(l.spans.begin(), l.spans.end(), [](const PendingSpan& a, const PendingSpan& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end > b.end;
    return a.depth < b.depth;
  });
  file_->name_thread(Track::ranks, tid,
                     lane.lane == 0 ? fmt::format("rank {}", lane.rank)
                                    : fmt::format("rank {} non-blocking {}", lane.rank, lane.lane));
  for (const PendingSpan& s : l.spans)
    file_->slice(Track::ranks, tid, s.category, s.name, at(s.begin), at(s.end), s.args);
  l.spans.clear();
}

void FabricTrace::fabric_instant(std::string_view name, Time now, const Args& args) {
  std::lock_guard lock(mutex_);
  file_->global_instant(name, at(now), args);
}

}  // namespace inca::trace
