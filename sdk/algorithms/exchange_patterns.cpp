#include "algorithms/exchange_patterns.hpp"

#include "algorithms/p2p_steps.hpp"
#include "topology/traffic.hpp"

namespace inca::algorithms {
namespace {

using topology::Flows;

// `every_link`: a message queues at each link from its bottleneck on (the
// all-reduce exchanges); otherwise at its bottleneck only (Bruck's
// all-gather, where queues after the bottleneck put the model 3.5 % above
// the simulator on 4:1 uplinks; docs/model.md).
ExchangeStep measure(const topology::Topology& topology, const Flows& flows,
                     bool every_link = true) {
  if (flows.empty()) return {};
  const topology::PatternPath p = topology::pattern_path(topology, flows);
  // Some steps also run backwards (the fold's way out, the binomial broadcast).
  Flows backwards;
  for (const auto& [from, to] : flows) backwards.emplace_back(to, from);
  const topology::PatternPath back = topology::pattern_path(topology, backwards);
  ExchangeStep step{p.load.max_links, p.load.sharing, p.worst, {}};
  for (std::size_t i = 0; i < flows.size(); ++i)
    step.flows.push_back({flows[i].first, flows[i].second, p.each[i], p.queues[i], back.queues[i]});
  if (!every_link)
    for (ExchangeStep::Flow& flow : step.flows) flow.queue.hops = flow.reverse_queue.hops = {};
  return step;
}

}  // namespace

void add_exchange_patterns(ModelFabric& f, const topology::Topology& topology) {
  const int p = static_cast<int>(f.ranks);
  if (p < 2) return;
  Flows ring;
  for (int r = 0; r < p; ++r) ring.emplace_back(r, (r + 1) % p);
  f.ring = topology::pattern_path(topology, ring).mean;
  const PowerOfTwoFold fold(0, p);
  Flows flows;
  for (int i = 0; i < fold.rem; ++i) flows.emplace_back(2 * i, 2 * i + 1);
  f.fold_step = measure(topology, flows);
  for (int mask = 1; mask < fold.pof2; mask <<= 1) {
    flows.clear();
    for (int n = 0; n < fold.pof2; ++n) flows.emplace_back(fold.real(n), fold.real(n ^ mask));
    f.xor_steps.push_back(measure(topology, flows));
  }
  for (int mask = 1; mask < p; mask <<= 1) {
    flows.clear();
    for (int r = mask; r < p; r += 2 * mask) flows.emplace_back(r, r - mask);
    f.binomial_steps.push_back(measure(topology, flows));
  }
  for (int distance = 1; distance < p; distance <<= 1) {
    flows.clear();
    for (int r = 0; r < p; ++r) flows.emplace_back(r, (r + p - distance) % p);
    f.bruck_steps.push_back(measure(topology, flows, /*every_link=*/false));
  }
}

}  // namespace inca::algorithms
