#include "live/live_fabric.hpp"

#include <string>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "host_config.hpp"

namespace inca::live {

LiveFabric::LiveFabric(const topology::Topology& topology, LiveConfig config)
    : topology_(topology), config_(std::move(config)) {
  // One table of every host's address, which all the hosts' endpoints share.
  config_.endpoint.rank_address = fabric::host_addresses(topology_);
  const auto& nodes = topology_.nodes();
  const std::uint32_t count = static_cast<std::uint32_t>(nodes.size());
  for (std::uint32_t id = 0; id < count; ++id)
    nodes_.push_back(
        std::make_unique<LiveNode>(clock_, tracker_, config_.backoff, config_.act_at_arrival));

  // The ring out of (a, port) is the ring into its peer's port.
  egress_.resize(count);
  for (std::uint32_t id = 0; id < count; ++id)
    for (const topology::Port& p : nodes[id].ports)
      egress_[id].push_back(std::make_unique<LinkRing>(p.link, config_.ring_capacity,
                                                       nodes_[p.peer_node]->doorbell()));

  switches_.resize(count);
  std::vector<Doorbell*> rank_doorbells;
  for (std::uint32_t id = 0; id < count; ++id) {
    const topology::Node& n = nodes[id];
    std::vector<LinkRing*> in, out;
    for (std::uint16_t port = 0; port < n.ports.size(); ++port) {
      in.push_back(egress_[n.ports[port].peer_node][n.ports[port].peer_port].get());
      out.push_back(egress_[id][port].get());
    }
    nodes_[id]->connect(std::move(in), std::move(out));
    if (n.kind == topology::NodeKind::switch_node) {
      switches_[id] = std::make_unique<LiveSwitch>(
          id, topology_, *nodes_[id],
          engine::SwitchConfig{n.switch_spec.slots, n.switch_spec.slot_payload_bytes, n.name,
                               n.switch_spec.caps});
    }
  }
  for (std::uint32_t h = 0; h < topology_.host_count(); ++h) {
    const std::uint32_t id = topology_.host_node(h);
    rank_nodes_.push_back(id);
    rank_doorbells.push_back(&nodes_[id]->doorbell());
    ranks_.push_back(std::make_unique<LiveRankDriver>(
        h, *nodes_[id], tracker_, fabric::host_endpoint_config(config_.endpoint, topology_, h)));
  }
  tracker_.watch(std::move(rank_doorbells));
}

LiveFabric::~LiveFabric() = default;

Status LiveFabric::control(std::uint32_t switch_node, LiveSwitch::Control change) {
  if (switch_node >= switches_.size() || !switches_[switch_node])
    return make_error(StatusCode::invalid_argument,
                      fmt::format("node {} is no switch", switch_node));
  std::unique_lock<std::mutex> lock(control_mutex_);
  if (!running_) return switches_[switch_node]->apply(change);
  std::future<Status> done = switches_[switch_node]->post(std::move(change));
  lock.unlock();  // the switch thread, or run()'s end, answers it
  return done.get();
}

Status LiveFabric::install(std::uint32_t switch_node, const wire::TreeInstall& tree) {
  return control(switch_node, [tree](engine::AggregationNode& e) { return e.install(tree); });
}

Status LiveFabric::remove(std::uint32_t switch_node, const wire::TreeRemove& tree) {
  return control(switch_node, [tree](engine::AggregationNode& e) { return e.remove(tree); });
}

protocol::HostEndpoint& LiveFabric::endpoint(std::uint32_t rank) {
  return ranks_.at(rank)->endpoint();
}

const engine::EngineCounters* LiveFabric::switch_counters(std::uint32_t node) const {
  return node < switches_.size() && switches_[node] ? &switches_[node]->engine().counters()
                                                    : nullptr;
}

const engine::AggregationNode* LiveFabric::engine(std::uint32_t node) const {
  return node < switches_.size() && switches_[node] ? &switches_[node]->engine() : nullptr;
}

void LiveFabric::set_trace(trace::TraceSink* sink) {
  Fabric::set_trace(sink);
  for (std::uint32_t node = 0; node < egress_.size(); ++node)
    for (std::uint16_t port = 0; port < egress_[node].size(); ++port)
      egress_[node][port]->set_trace(sink, node, port);
  for (auto& s : switches_)
    if (s) s->set_trace(sink);
  for (auto& r : ranks_) r->set_trace(sink);
}

const LinkCounters& LiveFabric::link_counters(std::uint32_t node, std::uint16_t port) const {
  return egress_.at(node).at(port)->counters();
}

void LiveFabric::rank_thread(std::uint32_t rank, const RankMain& main) {
  tune_fabric_thread(config_.backoff);
  ranks_[rank]->run_main(main);
  tracker_.release();  // this rank will not act on its own any more
  if (running_ranks_.fetch_sub(1) == 1)
    for (std::uint32_t id : rank_nodes_) nodes_[id]->doorbell().notify();
  ranks_[rank]->linger([this] { return running_ranks_.load() == 0; });
}

Status LiveFabric::run(const RankMain& main) {
  std::unique_lock<std::mutex> one_run(run_mutex_, std::try_to_lock);
  if (!one_run.owns_lock())
    return make_error(StatusCode::invalid_argument,
                      "live fabric: run() called while another run is in progress");
  const auto ranks = static_cast<std::uint32_t>(ranks_.size());
  const auto switch_ids = topology_.switch_nodes();
  if (ranks + switch_ids.size() > config_.max_threads)
    return make_error(StatusCode::no_resource,
                      fmt::format("live fabric: {} ranks and {} switches need a thread each; the "
                                  "limit is {} (use the sim fabric for large worlds)",
                                  ranks, switch_ids.size(), config_.max_threads));
  {
    std::lock_guard<std::mutex> lock(control_mutex_);
    running_ = true;
  }
  stop_switches_.store(false);
  running_ranks_.store(ranks);
  tracker_.add(ranks);

  std::vector<std::thread> switch_threads, rank_threads;
  for (std::uint32_t id : switch_ids)
    switch_threads.emplace_back([this, id] { switches_[id]->run(stop_switches_); });
  for (std::uint32_t r = 0; r < ranks; ++r)
    rank_threads.emplace_back([this, r, &main] { rank_thread(r, main); });
  for (std::thread& t : rank_threads) t.join();

  stop_switches_.store(true, std::memory_order_release);
  for (std::uint32_t id : switch_ids) nodes_[id]->doorbell().notify();
  for (std::thread& t : switch_threads) t.join();
  {
    std::lock_guard<std::mutex> lock(control_mutex_);
    running_ = false;
    for (std::uint32_t id : switch_ids) switches_[id]->drain_controls();
  }

  std::string errors;
  for (std::uint32_t r = 0; r < ranks; ++r)
    if (!ranks_[r]->error().empty()) errors += fmt::format("rank {}: {}; ", r, ranks_[r]->error());
  if (!errors.empty()) return make_error(StatusCode::internal, "rank program threw: " + errors);
  return {};
}

}  // namespace inca::live
