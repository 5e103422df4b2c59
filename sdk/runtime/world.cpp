#include "inca/world.hpp"

#include <fmt/format.h>

#include "algorithms/exchange_patterns.hpp"
#include "inca/communicator.hpp"
#include "manager/aggregation_manager.hpp"
#include "sim/sim_fabric.hpp"
#include "topology/topology.hpp"

namespace inca {

std::string_view to_string(TopologyKind kind) {
  return kind == TopologyKind::star ? "star" : "leaf-spine";
}

std::string_view to_string(FabricKind kind) {
  return kind == FabricKind::sim ? "sim" : "live";
}

class World::Impl {
 public:
  FabricOptions options;
  topology::Topology topology;
  std::unique_ptr<manager::AggregationManager> manager;
  std::unique_ptr<fabric::Fabric> fabric;
  manager::TreePlan tree;
  Status innet_status;
  ModelFabric model;  // for `auto` algorithm choice
};

namespace {

Status validate(const FabricOptions& o) {
  auto bad = [](std::string what) {
    return make_error(StatusCode::invalid_argument, std::move(what));
  };
  if (o.ranks == 0) return bad("a world needs at least one rank");
  if (o.ranks > 65535) return bad(fmt::format("{} ranks: at most 65535", o.ranks));
  if (!(o.link_gbps > 0))
    return bad(fmt::format("link rate {} Gb/s must be positive", o.link_gbps));
  if (o.latency < 0) return bad("link latency must not be negative");
  if (o.mtu < wire::kHeaderBytes + 8 || o.mtu > wire::kHeaderBytes + wire::kMaxPayloadBytes)
    return bad(fmt::format("mtu {} outside {}..{}", o.mtu, wire::kHeaderBytes + 8,
                           wire::kHeaderBytes + wire::kMaxPayloadBytes));
  if (o.slot_bytes < 8)
    return bad(fmt::format("slot payload {} B is below one element", o.slot_bytes));
  if (o.window == 0) return bad("window must be at least 1");
  if (o.switch_slots == 0 || o.switch_slots > wire::kMaxSlot + 1u)
    return bad(fmt::format("switch slots {} outside 1..{}", o.switch_slots, wire::kMaxSlot + 1));
  if (o.topology == TopologyKind::leaf_spine && (o.hosts_per_leaf == 0 || o.spines == 0))
    return bad("leaf-spine needs hosts per leaf and spines >= 1");
  if (o.host_reduce_gbps < 0) return bad("host reduce rate must not be negative");
  return {};
}

}  // namespace

Result<std::unique_ptr<World>> World::create(const FabricOptions& o) {
  INCA_RETURN_IF_ERROR(validate(o));
  auto impl = std::make_unique<Impl>();
  impl->options = o;
  topology::LinkSpec link{o.link_gbps, o.latency, o.mtu};
  topology::SwitchSpec sw{o.switch_slots, o.slot_bytes};
  auto topo =
      o.topology == TopologyKind::star
          ? topology::Topology::star(o.ranks, link, sw)
          : topology::Topology::leaf_spine(o.ranks, o.hosts_per_leaf, o.spines, link, link, sw);
  if (!topo.ok()) return topo.status();
  impl->topology = std::move(*topo);
  impl->manager = std::make_unique<manager::AggregationManager>(impl->topology);

  sim::SimConfig sc;
  sc.endpoint.job = o.job;
  sc.endpoint.key_tag = o.key_tag;
  sc.endpoint.p2p_payload_bytes = o.mtu - static_cast<std::uint32_t>(wire::kHeaderBytes);
  sc.endpoint.retransmit_timeout = o.retransmit_timeout;
  sc.endpoint.timing_only = o.timing_only;
  sc.fiber_stack_bytes = o.fiber_stack_bytes;
  sc.host_reduce_gbps = o.host_reduce_gbps;
  switch (o.fabric) {
    case FabricKind::sim:
      impl->fabric = std::make_unique<sim::SimFabric>(impl->topology, sc);
      break;
    default:
      return make_error(StatusCode::not_supported,
                        fmt::format("fabric '{}' is not built in", to_string(o.fabric)));
  }

  manager::TreeRequest req;
  req.job = o.job;
  req.key_tag = o.key_tag;
  for (std::uint32_t r = 0; r < o.ranks; ++r) req.hosts.push_back(r);
  req.slots = std::min(o.window, o.switch_slots);
  req.max_payload_bytes =
      std::min<std::uint32_t>(o.slot_bytes, o.mtu - static_cast<std::uint32_t>(wire::kHeaderBytes));
  auto plan = impl->manager->allocate(req);
  if (plan.ok()) {
    impl->tree = std::move(*plan);
    for (const auto& [node, install] : impl->tree.installs) {
      Status s = impl->fabric->install(node, install);
      if (!s.ok()) {
        impl->innet_status = s;
        break;
      }
    }
  } else {
    impl->innet_status = plan.status();
  }
  auto world = std::unique_ptr<World>(new World(std::move(impl)));
  world->impl_->model = world->model_fabric();
  return world;
}

World::World(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
World::~World() = default;

Status World::run(const std::function<void(Communicator&)>& rank_main) {
  const manager::TreePlan* tree = impl_->innet_status.ok() ? &impl_->tree : nullptr;
  return impl_->fabric->run([&](std::uint32_t rank, protocol::HostDriver& driver) {
    Communicator comm(rank, impl_->options.ranks, driver, tree, impl_->innet_status,
                      impl_->options.timing_only, &impl_->model);
    rank_main(comm);
  });
}

std::uint32_t World::size() const {
  return impl_->options.ranks;
}
Time World::now() const {
  return impl_->fabric->now();
}
const FabricOptions& World::options() const {
  return impl_->options;
}
Status World::innet_status() const {
  return impl_->innet_status;
}
std::uint32_t World::tree_levels() const {
  return impl_->innet_status.ok() ? impl_->tree.switch_levels : 0;
}

std::uint64_t World::nic_tx_bytes(std::uint32_t rank) const {
  return impl_->fabric->endpoint(rank).counters().bytes_sent;
}

std::string World::describe() const {
  std::string out = impl_->topology.describe();
  if (impl_->innet_status.ok()) {
    out +=
        fmt::format("\ntree {}: root {}, {} switch levels, {} slots x {} B per switch",
                    impl_->tree.tree, impl_->topology.node(impl_->tree.root).name,
                    impl_->tree.switch_levels, impl_->tree.slots, impl_->tree.slot_payload_bytes);
  } else {
    out += "\nno aggregation tree: " + impl_->innet_status.to_string();
  }
  return out;
}

WorldStats World::stats() const {
  WorldStats s;
  s.events = impl_->fabric->events_processed();
  for (std::uint32_t sw : impl_->topology.switch_nodes()) {
    const auto& c = *impl_->fabric->switch_counters(sw);
    s.switch_contributions += c.contributions;
    s.switch_duplicates += c.duplicates;
    s.switch_results += c.results;
    s.switch_drops += c.drop_unknown_tree + c.drop_bad_key + c.drop_bad_child + c.drop_mismatch +
                      c.drop_oversize + c.drop_bad_type + c.stale + c.slot_full;
  }
  for (std::uint32_t r = 0; r < impl_->options.ranks; ++r) {
    const auto& c = impl_->fabric->endpoint(r).counters();
    s.host_packets_sent += c.packets_sent;
    s.host_retransmissions += c.retransmissions;
  }
  return s;
}

}  // namespace inca

namespace inca {

ModelFabric World::model_fabric() const {
  const FabricOptions& o = impl_->options;
  ModelFabric f;
  f.ranks = o.ranks;
  f.link_gbps = o.link_gbps;
  f.link_latency = o.latency;
  f.packet_overhead = wire::kHeaderBytes + wire::kFramingBytes;
  f.p2p_payload = o.mtu - wire::kHeaderBytes;
  f.slot_payload = impl_->innet_status.ok() ? impl_->tree.slot_payload_bytes : o.slot_bytes;
  f.window = impl_->innet_status.ok() ? impl_->tree.slots : o.window;
  f.tree_links = impl_->innet_status.ok() ? impl_->tree.switch_levels : 0;
  if (o.ranks > 1) {
    double links = 0;
    for (std::uint32_t r = 0; r < o.ranks; ++r)
      links += static_cast<double>(impl_->topology.path(r, (r + 1) % o.ranks).size() - 1);
    f.ring_links = links / o.ranks;
  }
  algorithms::add_exchange_patterns(f, impl_->topology);
  return f;
}

}  // namespace inca
