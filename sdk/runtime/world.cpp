#include "inca/world.hpp"

#include <cmath>

#include <fmt/format.h>

#include "algorithms/exchange_patterns.hpp"
#include "algorithms/tree_model.hpp"
#include "fabric/fabric_topology.hpp"
#include "inca/communicator.hpp"
#include "live/live_fabric.hpp"
#include "manager/aggregation_manager.hpp"
#include "manager/tree_admission.hpp"
#include "manager/tree_dot.hpp"
#include "runtime/model_answers.hpp"
#include "runtime/recovery_options.hpp"
#include "runtime/tree_service.hpp"
#include "sim/sim_fabric.hpp"
#include "topology/topology.hpp"
#include "trace/chrome_trace_file.hpp"
#include "trace/fabric_trace.hpp"

namespace inca {

std::string_view to_string(TopologyKind kind) {
  return kind == TopologyKind::star ? "star" : "leaf-spine";
}

std::string_view to_string(FabricKind kind) {
  return kind == FabricKind::sim ? "sim" : "live";
}

std::string_view to_string(SimMode mode) {
  return mode == SimMode::packet ? "packet" : "segment";
}

std::optional<SimMode> parse_sim_mode(std::string_view text) {
  for (SimMode m : {SimMode::packet, SimMode::segment})
    if (text == to_string(m)) return m;
  return {};
}

class World::Impl {
 public:
  FabricOptions options;
  FabricDescription fabric_description;
  topology::Topology topology;
  std::unique_ptr<manager::AggregationManager> manager;
  std::unique_ptr<fabric::Fabric> fabric;
  std::unique_ptr<runtime::TreeService> trees;  // the tree, re-formed after failures
  ModelFabric model;                            // for `auto` algorithm choice
  runtime::ModelAnswers model_answers;          // the model's answers, for every rank
  std::uint32_t tree_payload = 0;               // the world tree request's max payload
  std::unique_ptr<trace::FabricTrace> trace;    // null unless FabricOptions::trace names a file

  ~Impl() {
    // The trace writes its last samples from the fabric's counters.
    if (!trace) return;
    fabric->set_trace(nullptr);
    trace.reset();
  }

  // The world communicator's tree now; null with the reason when there is none.
  const manager::TreePlan* tree(Status* why = nullptr,
                                runtime::TreeService::Snapshot* hold = nullptr) const {
    runtime::TreeService::Snapshot s = trees->current();
    if (why) *why = s.plan ? Status() : s.status;
    const manager::TreePlan* plan = s.plan.get();
    if (hold) *hold = std::move(s);
    return plan;
  }
};

namespace {

// What the fabric itself does not decide: which driver runs it, fibers, recovery.
Status validate_runtime(const FabricOptions& o) {
  auto bad = [](std::string what) {
    return make_error(StatusCode::invalid_argument, std::move(what));
  };
  if (o.fabric != FabricKind::sim && o.fabric != FabricKind::live)
    return bad(fmt::format("FabricOptions.fabric {} is no fabric kind (sim, live)",
                           static_cast<int>(o.fabric)));
  if (o.fiber_stack_bytes < 64 * 1024)
    return bad(
        fmt::format("FabricOptions.fiber_stack_bytes {} is below 64 KiB", o.fiber_stack_bytes));
  INCA_RETURN_IF_ERROR(runtime::validate(o.recovery, o.retransmit_timeout));
  if (o.window == 0) return bad("window must be at least 1");
  if (o.sim_mode != SimMode::packet && o.sim_mode != SimMode::segment)
    return bad(fmt::format("FabricOptions.sim_mode {} is no simulation mode (packet, segment)",
                           static_cast<int>(o.sim_mode)));
  if (o.sim_mode == SimMode::segment) {
    // Segments are a timing model: they carry no data, and a fault would
    // drop or reorder a segment's packets all together.
    if (o.fabric != FabricKind::sim) return bad("sim mode segment needs the sim fabric");
    if (!o.timing_only)
      return bad("sim mode segment needs a payload-free run (timing_only, --payload off)");
    if (!o.faults.empty()) return bad("sim mode segment cannot inject faults; use sim mode packet");
    if (o.segment_packets < 2 || o.segment_packets > 1024)
      return bad(fmt::format("segment_packets {} outside 2..1024", o.segment_packets));
    if (o.p2p_segment_packets < 1 || o.p2p_segment_packets > 1024)
      return bad(fmt::format("p2p_segment_packets {} outside 1..1024", o.p2p_segment_packets));
  }
  if (o.job_identity.priority > 9)
    return bad(fmt::format("FabricOptions.job_identity.priority {} is outside 0..9",
                           o.job_identity.priority));
  if (o.job_identity.quota_percent > 100)
    return bad(fmt::format("FabricOptions.job_identity.quota_percent {} is above 100",
                           o.job_identity.quota_percent));
  if (!o.trace.file.empty()) {
    if (o.trace.interval < 0) return bad("trace interval must not be negative");
    if (o.trace.max_bytes < 64 * 1024)
      return bad(fmt::format("trace size limit {} B is below 64 KiB", o.trace.max_bytes));
    if (o.trace.detail > TraceDetail::packets)
      return bad(fmt::format("FabricOptions.trace.detail {} is no trace detail",
                             static_cast<int>(o.trace.detail)));
  }
  return {};
}

// The legacy one-line description of the built-in fabrics, which reports and
// tests quote; described fabrics say what the topology builder says.
std::string legacy_description(const FabricOptions& o, const FabricDescription& f) {
  if (o.description || !o.fabric_file.empty() || !o.preset.empty()) return "";
  if (o.topology == TopologyKind::star) return fmt::format("star: {} hosts on one switch", o.ranks);
  return fmt::format("leaf-spine: {} hosts, {} per leaf, {} leaves, {} spines", o.ranks,
                     o.hosts_per_leaf, f.switches.size() - o.spines, o.spines);
}

}  // namespace

Result<std::unique_ptr<World>> World::create(const FabricDescription& fabric,
                                             FabricOptions options) {
  options.description = std::make_shared<const FabricDescription>(fabric);
  return create(options);
}

Result<std::unique_ptr<World>> World::create(const FabricOptions& o) {
  INCA_RETURN_IF_ERROR(validate_runtime(o));
  auto described = describe_fabric(o);
  if (!described.ok()) return described.status();
  auto impl = std::make_unique<Impl>();
  impl->options = o;
  impl->fabric_description = std::move(*described);
  const FabricDescription& f = impl->fabric_description;
  impl->options.ranks = static_cast<std::uint32_t>(f.hosts.size());
  // A window the fabric gives its hosts (what its switches stream) replaces
  // the job's; the least of them binds the shared tree.
  std::uint32_t hosts_window = 0;
  for (const HostDescription& h : f.hosts)
    if (h.window != 0)
      hosts_window = hosts_window == 0 ? h.window : std::min(hosts_window, h.window);
  if (hosts_window != 0) impl->options.window = hosts_window;
  auto topo = fabric_file::build_topology(f);
  if (!topo.ok()) return topo.status();
  impl->topology = std::move(*topo);
  if (std::string legacy = legacy_description(o, f); !legacy.empty())
    impl->topology.set_description(std::move(legacy));
  impl->manager = std::make_unique<manager::AggregationManager>(impl->topology);
  if (legacy_description(o, f).empty())  // a fabric file, preset or description
    impl->manager->set_admission(
        std::make_shared<manager::TreeAdmission>(impl->fabric_description, impl->topology));

  // Every point-to-point packet must cross any link, and a tree's switches
  // bound its slots and payload (the manager narrows both to the tree).
  std::uint32_t mtu = wire::kHeaderBytes + wire::kMaxPayloadBytes, slots = wire::kMaxSlot + 1u,
                slot_payload = 0;
  for (const LinkDescription& l : f.links) mtu = std::min(mtu, l.mtu);
  for (const SwitchDescription& s : f.switches) {
    if (!s.aggregates) continue;
    slots = std::min(slots, s.slots);
    slot_payload = std::max(slot_payload, s.slot_payload_bytes);
  }
  sim::SimConfig sc;
  sc.endpoint.job = o.job;
  sc.endpoint.key_tag = o.key_tag;
  sc.endpoint.p2p_payload_bytes = mtu - static_cast<std::uint32_t>(wire::kHeaderBytes);
  sc.endpoint.retransmit_timeout = o.retransmit_timeout;
  sc.endpoint.timing_only = o.timing_only;
  if (o.sim_mode == SimMode::segment) {
    sc.segment_packets = sc.endpoint.segment_packets = o.segment_packets;
    sc.endpoint.p2p_segment_packets = std::min(o.p2p_segment_packets, o.segment_packets);
  }
  const RecoveryOptions recovery = runtime::resolve(o.recovery, o.fabric);
  runtime::apply(recovery, runtime::longest_round_trip(impl->topology), sc.endpoint);
  sc.fiber_stack_bytes = o.fiber_stack_bytes;
  sc.on_progress = o.progress;
  sc.progress_events = std::uint64_t{1} << 18;
  switch (o.fabric) {
    case FabricKind::sim:
      impl->fabric = std::make_unique<sim::SimFabric>(impl->topology, sc);
      break;
    case FabricKind::live: {
      live::LiveConfig lc;
      lc.endpoint = sc.endpoint;
      impl->fabric = std::make_unique<live::LiveFabric>(impl->topology, lc);
      break;
    }
    default:
      return make_error(StatusCode::not_supported,
                        fmt::format("fabric '{}' is not built in", to_string(o.fabric)));
  }

  INCA_RETURN_IF_ERROR(impl->fabric->set_faults(o.faults));
  if (!o.trace.file.empty()) {
    const bool wall_clock = o.fabric == FabricKind::live;
    TraceOptions t = o.trace;
    t.interval = trace::trace_interval(t, wall_clock);
    auto file = trace::ChromeTraceFile::open(
        t.file, t.max_bytes, wall_clock ? "wall clock (live fabric)" : "virtual time (simulator)");
    if (!file.ok()) return file.status();
    impl->trace = std::make_unique<trace::FabricTrace>(std::move(*file), impl->topology,
                                                       *impl->fabric, t, o.faults);
    impl->fabric->set_trace(impl->trace.get());
  }

  const std::uint32_t ranks = impl->options.ranks;
  manager::TreeRequest req;
  req.job = o.job;
  req.key_tag = o.key_tag;
  for (std::uint32_t r = 0; r < ranks; ++r) req.hosts.push_back(r);
  req.slots = std::min(impl->options.window, slots);
  req.max_payload_bytes =
      std::min<std::uint32_t>(slot_payload, mtu - static_cast<std::uint32_t>(wire::kHeaderBytes));
  if (o.job_identity.payload_bytes != 0)
    req.max_payload_bytes = std::min(req.max_payload_bytes, o.job_identity.payload_bytes);
  req.identity = o.job_identity;
  impl->tree_payload = req.max_payload_bytes;
  impl->trees = std::make_unique<runtime::TreeService>(impl->topology, *impl->manager,
                                                       *impl->fabric, req, ranks, recovery);
  impl->trees->start();
  auto world = std::unique_ptr<World>(new World(std::move(impl)));
  world->impl_->model = world->model_fabric();
  return world;
}

World::World(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
World::~World() = default;

Status World::run(const std::function<void(Communicator&)>& rank_main) {
  if (!rank_main)
    return make_error(StatusCode::invalid_argument, "World::run: the rank program is empty");
  if (impl_->trace) impl_->trace->run_started(impl_->fabric->now());
  Status s = impl_->fabric->run([&](std::uint32_t rank, protocol::HostDriver& driver) {
    Communicator comm(rank, impl_->options.ranks, driver, *impl_->trees, impl_->options.timing_only,
                      &impl_->model, &impl_->model_answers);
    rank_main(comm);
  });
  if (impl_->trace) impl_->trace->run_ended(impl_->fabric->now());
  return s;
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
const FabricDescription& World::fabric() const {
  return impl_->fabric_description;
}
Status World::innet_status() const {
  Status why;
  impl_->tree(&why);
  return why;
}
std::uint32_t World::tree_levels() const {
  runtime::TreeService::Snapshot hold;
  const manager::TreePlan* tree = impl_->tree(nullptr, &hold);
  return tree ? tree->switch_levels : 0;
}

std::uint64_t World::switch_contributions(const std::string& name) const {
  for (std::uint32_t sw : impl_->topology.switch_nodes())
    if (impl_->topology.node(sw).name == name)
      return impl_->fabric->switch_counters(sw)->contributions;
  return 0;
}

std::uint64_t World::nic_tx_bytes(std::uint32_t rank) const {
  if (rank >= impl_->options.ranks) return 0;
  return impl_->fabric->endpoint(rank).counters().bytes_sent;
}

std::string World::describe() const {
  std::string out = impl_->topology.describe();
  Status why;
  runtime::TreeService::Snapshot hold;
  if (const manager::TreePlan* tree = impl_->tree(&why, &hold)) {
    out += fmt::format("\ntree {}: root {}, {} switch levels, {} slots x {} B per switch",
                       tree->tree, impl_->topology.node(tree->root).name, tree->switch_levels,
                       tree->slots, tree->slot_payload_bytes);
    if (tree->caps != SwitchCaps{}) out += "; aggregates " + tree->caps.describe();
  } else {
    out += "\nno aggregation tree: " + why.to_string();
  }
  return out;
}

std::string World::dot() const {
  runtime::TreeService::Snapshot hold;
  return manager::tree_dot(impl_->topology, impl_->tree(nullptr, &hold));
}

WorldStats World::stats() const {
  WorldStats s;
  s.events = impl_->fabric->events_processed();
  for (std::uint32_t sw : impl_->topology.switch_nodes()) {
    const auto& c = *impl_->fabric->switch_counters(sw);
    s.switch_contributions += c.contributions;
    s.switch_identity_contributions += c.identity_contributions;
    s.switch_duplicates += c.duplicates;
    s.switch_duplicate_answers += c.duplicate_answers;
    s.switch_partial_reforwards += c.partial_reforwards;
    s.switch_results += c.results;
    s.switch_header_only_results += c.header_only_results;
    s.switch_drops += engine::dropped_packets(c);
    s.switch_stale += c.stale;
    s.switch_slot_full += c.slot_full;
    s.switch_drop_unknown_tree += c.drop_unknown_tree;
    s.switch_drop_bad_key += c.drop_bad_key;
    s.switch_drop_bad_child += c.drop_bad_child;
    s.switch_drop_bad_slot += c.drop_bad_slot;
    s.switch_drop_mismatch += c.drop_mismatch;
    s.switch_refused_caps += c.refused_caps;
    s.switch_errors_sent += c.errors_sent;
  }
  for (std::uint32_t r = 0; r < impl_->options.ranks; ++r) {
    const auto& c = impl_->fabric->endpoint(r).counters();
    s.host_packets_sent += c.packets_sent;
    s.host_retransmissions += c.retransmissions + c.p2p_retransmissions;
    s.host_innet_retransmissions += c.retransmissions;
    s.host_p2p_retransmissions += c.p2p_retransmissions;
    s.host_duplicate_results += c.duplicate_results;
    s.host_p2p_duplicates += c.p2p_duplicates;
    s.host_acks_sent += c.acks_sent;
    s.host_errors_received += c.errors_received;
    s.host_dropped += c.dropped;
    s.host_timeouts += c.timeouts;
  }
  const FaultCounters f = impl_->fabric->fault_counters();
  s.fault_dropped = f.dropped;
  s.fault_duplicated = f.duplicated;
  s.fault_reordered = f.reordered;
  s.fault_corrupted = f.corrupted;
  s.fault_corrupt_detected = f.corrupt_detected;
  s.fault_corrupt_undetected = f.corrupt_undetected;
  s.fault_link_down_drops = f.link_down_drops;
  s.fault_switch_down_drops = f.switch_down_drops;
  s.fault_switch_state_losses = f.switch_state_losses;
  impl_->trees->add_stats(s);
  return s;
}

}  // namespace inca

namespace inca {

ModelFabric World::model_fabric() const {
  const FabricOptions& o = impl_->options;
  const topology::Topology& t = impl_->topology;
  ModelFabric f;
  f.ranks = o.ranks;
  f.packet_overhead = wire::kHeaderBytes + wire::kFramingBytes;
  f.p2p_payload = impl_->fabric->endpoint(0).config().p2p_payload_bytes;
  f.eager_bytes = impl_->fabric->endpoint(0).config().eager_send_bytes;
  f.host = algorithms::host_model(t, o.ranks);
  runtime::TreeService::Snapshot hold;
  if (const manager::TreePlan* tree = impl_->tree(nullptr, &hold)) {
    f.slot_payload = tree->slot_payload_bytes;
    f.window = tree->slots;
    f.tree_links = tree->switch_levels;
    f.tree = algorithms::tree_levels(t, *tree);
  } else {
    f.window = o.window;  // the resolved one (create())
  }
  // Hierarchical's default group: the hosts of rank 0's switch.
  std::uint32_t beside = 0;
  const std::uint32_t leaf = t.node(t.host_node(0)).ports[0].peer_node;
  for (std::uint32_t r = 0; r < o.ranks; ++r)
    beside += t.node(t.host_node(r)).ports[0].peer_node == leaf;
  f.group = o.hierarchical_group > 0 ? o.hierarchical_group : beside;
  algorithms::add_exchange_patterns(f, t);
  f.two_tier = algorithms::two_tier_model(t, o.ranks, f.window, impl_->tree_payload);
  return f;
}

}  // namespace inca
