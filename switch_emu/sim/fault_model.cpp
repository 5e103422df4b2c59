#include "sim/fault_model.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <span>
#include <string>

#include <fmt/format.h>

#include "core/splitmix.hpp"

namespace inca::sim {
namespace {

// Spreads the global seed so that neighbouring links get unrelated streams.
using core::splitmix64;

// A uniform double in [0, 1) from the top 53 bits: the same on every standard
// library, unlike std::uniform_real_distribution.
double uniform(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// A delay in [1, max] ps (at least 1 so that a held packet really is late).
Time delay_upto(std::mt19937_64& rng, Time max) {
  return max <= 1 ? 1 : 1 + static_cast<Time>(rng() % static_cast<std::uint64_t>(max));
}

Status check_faults(const LinkFaults& f, const std::string& where) {
  const std::pair<const char*, double> probabilities[] = {
      {"drop", f.drop}, {"duplicate", f.duplicate}, {"reorder", f.reorder}, {"corrupt", f.corrupt}};
  for (const auto& [name, p] : probabilities)
    if (!(p >= 0.0 && p <= 1.0))
      return make_error(
          StatusCode::invalid_argument,
          fmt::format("fault plan: {} probability {} of {} is outside [0, 1]", name, p, where));
  if (f.reorder_delay < 0)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("fault plan: negative reorder delay of {}", where));
  return {};
}

Status check_interval(Time down_at, Time up_at, const std::string& where) {
  if (down_at < 0 || up_at <= down_at)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("fault plan: {} must go down at a time >= 0 and come back "
                                  "later (down {} ps, up {} ps)",
                                  where, down_at, up_at));
  return {};
}

}  // namespace

Result<std::unique_ptr<FaultModel>> FaultModel::create(const topology::Topology& topology,
                                                       const FaultPlan& plan) {
  std::unique_ptr<FaultModel> m(new FaultModel());
  const auto& nodes = topology.nodes();
  std::map<std::string, std::uint32_t, std::less<>> by_name;
  for (std::uint32_t id = 0; id < nodes.size(); ++id) by_name.emplace(nodes[id].name, id);
  auto find_node = [&](const std::string& name, const char* what) -> Result<std::uint32_t> {
    auto it = by_name.find(name);
    if (it == by_name.end())
      return make_error(StatusCode::invalid_argument,
                        fmt::format("fault plan: {} '{}' is no node of the topology", what, name));
    return it->second;
  };
  // The port of `a` that leads to `b`.
  auto find_link = [&](const std::string& a,
                       const std::string& b) -> Result<std::pair<std::uint32_t, std::uint16_t>> {
    auto na = find_node(a, "link end");
    if (!na.ok()) return na.status();
    auto nb = find_node(b, "link end");
    if (!nb.ok()) return nb.status();
    const auto& ports = nodes[*na].ports;
    for (std::uint16_t p = 0; p < ports.size(); ++p)
      if (ports[p].peer_node == *nb) return std::make_pair(*na, p);
    return make_error(StatusCode::invalid_argument,
                      fmt::format("fault plan: no link between '{}' and '{}'", a, b));
  };

  INCA_RETURN_IF_ERROR(check_faults(plan.every_link, "every link"));
  std::vector<const LinkFaults*> node_rule(nodes.size(), nullptr);
  for (const NodeFaults& r : plan.nodes) {
    auto id = find_node(r.node, "node");
    if (!id.ok()) return id.status();
    INCA_RETURN_IF_ERROR(check_faults(r.faults, "node " + r.node));
    node_rule[*id] = &r.faults;
  }

  m->first_port_.resize(nodes.size() + 1, 0);
  for (std::uint32_t id = 0; id < nodes.size(); ++id)
    m->first_port_[id + 1] = m->first_port_[id] + nodes[id].ports.size();
  m->links_.resize(m->first_port_.back());
  for (std::uint32_t id = 0; id < nodes.size(); ++id) {
    for (std::uint16_t p = 0; p < nodes[id].ports.size(); ++p) {
      LinkState& l = m->link(id, p);
      const std::uint32_t peer = nodes[id].ports[p].peer_node;
      l.faults = node_rule[id]     ? *node_rule[id]
                 : node_rule[peer] ? *node_rule[peer]
                                   : plan.every_link;
      l.rng.seed(splitmix64(plan.seed ^ splitmix64(m->first_port_[id] + p)));
    }
  }
  for (const LinkFaultRule& r : plan.links) {
    const std::string where = "link " + r.a + "-" + r.b;
    INCA_RETURN_IF_ERROR(check_faults(r.faults, where));
    auto ab = find_link(r.a, r.b);
    if (!ab.ok()) return ab.status();
    const topology::Port& port = nodes[ab->first].ports[ab->second];
    m->link(ab->first, ab->second).faults = r.faults;
    m->link(port.peer_node, port.peer_port).faults = r.faults;
  }
  for (const LinkOutage& o : plan.link_outages) {
    INCA_RETURN_IF_ERROR(check_interval(o.down_at, o.up_at, "link " + o.a + "-" + o.b));
    auto ab = find_link(o.a, o.b);
    if (!ab.ok()) return ab.status();
    const topology::Port& port = nodes[ab->first].ports[ab->second];
    m->link(ab->first, ab->second).outages.push_back({o.down_at, o.up_at});
    m->link(port.peer_node, port.peer_port).outages.push_back({o.down_at, o.up_at});
  }
  m->node_down_.resize(nodes.size());
  for (const SwitchOutage& o : plan.switch_outages) {
    INCA_RETURN_IF_ERROR(check_interval(o.down_at, o.up_at, "switch " + o.name));
    auto id = find_node(o.name, "switch");
    if (!id.ok()) return id.status();
    if (nodes[*id].kind != topology::NodeKind::switch_node)
      return make_error(StatusCode::invalid_argument,
                        fmt::format("fault plan: '{}' is a host, not a switch", o.name));
    m->node_down_[*id].push_back({o.down_at, o.up_at});
  }
  for (auto& v : m->node_down_)
    std::sort(v.begin(), v.end(),
              [](const Interval& a, const Interval& b) { return a.from < b.from; });
  return m;
}

bool FaultModel::node_up(std::uint32_t node, Time t) const {
  for (const Interval& i : node_down_[node])
    if (t >= i.from && t < i.until) return false;
  return true;
}

bool FaultModel::link_up(std::uint32_t node, std::uint16_t port, Time t) const {
  for (const Interval& i : link(node, port).outages)
    if (t >= i.from && t < i.until) return false;
  return true;
}

std::uint32_t FaultModel::deaths(std::uint32_t node, Time t) const {
  std::uint32_t n = 0;
  for (const Interval& i : node_down_[node])
    if (i.from <= t) ++n;
  return n;
}

bool FaultModel::corrupt(wire::Packet& packet, std::mt19937_64& rng) {
  // Flip 1 to 3 distinct bits of the encoded packet and let the receiver's
  // decode judge it, as a real NIC or switch port would. A payload-free
  // (timing-only) packet is encoded with zeros of the size it announces.
  const std::size_t body = packet.payload_bytes();
  std::vector<std::byte> zeros;
  std::span<const std::byte> payload = packet.payload_span();
  if (!packet.payload) {
    zeros.assign(body, std::byte{0});
    payload = zeros;
  }
  std::vector<std::byte> bytes(wire::kHeaderBytes + body);
  if (wire::encode(packet.header, payload, bytes) == 0) return true;
  const std::size_t bits = bytes.size() * 8;
  const std::size_t flips = std::min<std::size_t>(1 + rng() % 3, bits);
  std::vector<std::size_t> flipped;
  while (flipped.size() < flips) {
    const std::size_t bit = rng() % bits;
    if (std::find(flipped.begin(), flipped.end(), bit) != flipped.end()) continue;
    flipped.push_back(bit);
    bytes[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
  }
  wire::Header h;
  std::span<const std::byte> decoded;
  if (wire::decode(bytes, h, decoded) != wire::DecodeError::none) return true;
  packet.header = h;
  if (packet.payload) packet.payload = wire::make_payload(decoded);
  return false;
}

FaultModel::Fate FaultModel::on_send(std::uint32_t node, std::uint16_t port, Time now,
                                     wire::Packet& packet) {
  Fate fate;
  LinkState& l = link(node, port);
  if (!l.outages.empty() && !link_up(node, port, now)) {
    ++counters_.link_down_drops;
    fate.lost = true;
    return fate;
  }
  const LinkFaults& f = l.faults;
  if (!f.any()) return fate;
  if (f.drop > 0 && uniform(l.rng) < f.drop) {
    ++counters_.dropped;
    fate.lost = true;
    return fate;
  }
  if (f.corrupt > 0 && uniform(l.rng) < f.corrupt) {
    ++counters_.corrupted;
    if (corrupt(packet, l.rng)) {
      ++counters_.corrupt_detected;
      fate.lost = true;
      return fate;
    }
    ++counters_.corrupt_undetected;
  }
  if (f.duplicate > 0 && uniform(l.rng) < f.duplicate) {
    ++counters_.duplicated;
    fate.duplicate = true;
    fate.duplicate_delay = delay_upto(l.rng, f.reorder_delay);
  }
  if (f.reorder > 0 && uniform(l.rng) < f.reorder) {
    ++counters_.reordered;
    fate.extra_delay = delay_upto(l.rng, f.reorder_delay);
  }
  return fate;
}

bool FaultModel::on_arrival(std::uint32_t node, std::uint16_t port, std::uint32_t peer, Time now) {
  if (!link(node, port).outages.empty() && !link_up(node, port, now)) {
    ++counters_.link_down_drops;
    return false;
  }
  if (!node_up(node, now) || !node_up(peer, now)) {
    ++counters_.switch_down_drops;
    return false;
  }
  return true;
}

}  // namespace inca::sim
