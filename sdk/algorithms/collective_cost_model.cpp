// Cost models of the collectives other than all-reduce. The in-network ones
// and the binomial trees are one call or one half of an all-reduce modelled in
// cost_model.cpp; the whole-block ring halves and the dissemination barrier
// have formulas of their own (docs/model.md, "Other collectives").
#include <algorithm>
#include <array>
#include <cmath>

#include "algorithms/cost_model_timeline.hpp"
#include "inca/collective.hpp"

namespace inca {
namespace {

std::optional<Time> half(std::optional<Time> t) {
  if (!t) return t;
  return *t / 2;
}

// Ring reduce-scatter / all-gather moving whole blocks: p-1 steps, each a
// block to the neighbour (on the mean neighbour path) before the next; the
// reduce-scatter reduces each block it receives.
Time ring_half(const ModelFabric& f, std::size_t block, bool reduces) {
  if (f.ranks <= 1 || block == 0) return 0;
  const double step = f.message(f.ring, block) + (reduces ? f.host.compute(block) : 0.0);
  return static_cast<Time>(std::llround((f.ranks - 1) * step));
}

// Dissemination: ceil(lg p) rounds; in round k each rank sends an empty
// message to the rank 2^k above and goes on once the one from the rank 2^k
// below has arrived and its own send is complete (at once: an empty message
// is eager). That is Bruck's pattern backwards, so with its steps measured
// the rounds run through the exchange Timeline (each rank its own critical
// path); without them each round is one message on the slowest path of any
// recursive-doubling step.
Time dissemination(const ModelFabric& f) {
  std::size_t rounds = 0;
  for (std::uint32_t d = 1; d < f.ranks; d <<= 1) ++rounds;
  if (rounds == 0) return 0;
  const bool measured = f.bruck_steps.size() >= rounds &&
                        std::none_of(f.bruck_steps.begin(), f.bruck_steps.begin() + rounds,
                                     [](const ExchangeStep& step) { return step.flows.empty(); });
  if (!measured) {
    ModelPath longest = f.ring;
    for (const ExchangeStep& step : f.xor_steps)
      if (step.path.crossing(0, f.p2p_payload, f.packet_overhead) >
          longest.crossing(0, f.p2p_payload, f.packet_overhead))
        longest = step.path;
    const double round = f.message(longest, 0) + f.acknowledgement(longest, 0);
    return static_cast<Time>(std::llround(static_cast<double>(rounds) * round));
  }
  algorithms::ExchangeTimeline timeline(f);
  for (std::size_t k = 0; k < rounds; ++k)
    timeline.step(f.bruck_steps[k], 0, /*reduces=*/false, /*sender_waits=*/true,
                  /*reverse=*/true);
  return static_cast<Time>(std::llround(timeline.run()));
}

// Bruck: ceil(lg p) steps; holding `have` blocks a rank sends min(have, p -
// have) of them to the rank `have` below (eager or not, it goes on without
// waiting for that send) and starts the next step when the message from the
// rank `have` above has arrived. With the steps' flows measured, their
// messages run through the FIFO link queues as recursive doubling's do (ranks
// drift apart, so not every flow of a step crosses a shared uplink at once);
// without them, every message takes the ring's path. The call ends when the
// last send is complete.
Time bruck(const ModelFabric& f, std::size_t block) {
  if (f.ranks <= 1 || block == 0) return 0;
  std::vector<std::size_t> sizes;
  for (std::size_t have = 1; have < f.ranks; have += sizes.back() / block)
    sizes.push_back(std::min<std::size_t>(have, f.ranks - have) * block);
  const bool measured = f.bruck_steps.size() >= sizes.size() &&
                        std::none_of(f.bruck_steps.begin(), f.bruck_steps.begin() + sizes.size(),
                                     [](const ExchangeStep& step) { return step.flows.empty(); });
  if (!measured) {
    double done = 0;
    for (std::size_t m : sizes) done += f.message(f.ring, m);
    return static_cast<Time>(std::llround(done + f.acknowledgement(f.ring, sizes.back())));
  }
  algorithms::ExchangeTimeline timeline(f);
  for (std::size_t k = 0; k < sizes.size(); ++k)
    timeline.step(f.bruck_steps[k], sizes[k], /*reduces=*/false, /*sender_waits=*/false);
  const ModelPath& last = f.bruck_steps[sizes.size() - 1].path;
  return static_cast<Time>(std::llround(timeline.run() + f.acknowledgement(last, sizes.back())));
}

}  // namespace

double busbw_factor(Collective collective, std::uint32_t ranks) {
  const double n = ranks;
  switch (collective) {
    case Collective::allreduce:
      return ranks > 0 ? 2.0 * (n - 1) / n : 0.0;
    case Collective::reduce:
    case Collective::broadcast:
      return 1.0;
    case Collective::barrier:
      return 0.0;
    case Collective::reduce_scatter:
    case Collective::allgather:
      return ranks > 0 ? (n - 1) / n : 0.0;
  }
  return 0.0;
}

std::optional<Time> model_collective(Collective collective, const std::string& algorithm,
                                     const ModelFabric& f, std::size_t bytes,
                                     std::size_t elem_size) {
  if (elem_size == 0) return std::nullopt;
  const bool innet = algorithm == "innet";
  const auto hosts = host_algorithms(collective);
  if (!innet && std::find(hosts.begin(), hosts.end(), algorithm) == hosts.end()) {
    if (collective == Collective::allreduce) return model_allreduce(algorithm, f, bytes, elem_size);
    return std::nullopt;
  }
  switch (collective) {
    case Collective::allreduce:
      return model_allreduce(algorithm, f, bytes, elem_size);
    case Collective::reduce:
    case Collective::broadcast:
      // In-network: one all-reduce of the message (broadcast as bytes).
      // Binomial: one of the two halves of the binomial-tree all-reduce.
      if (innet)
        return model_allreduce("innet", f, bytes,
                               collective == Collective::broadcast ? 1 : elem_size);
      return half(model_allreduce("binomial_tree", f, bytes, elem_size));
    case Collective::barrier:
      if (innet) return model_allreduce("innet", f, 1, 1);  // a one-byte all-reduce
      return dissemination(f);
    case Collective::reduce_scatter:
      // In-network: all-reduce of the whole send buffer. Ring: p-1 blocks.
      if (innet) return model_allreduce("innet", f, bytes, elem_size);
      return ring_half(f, bytes / elem_size / std::max<std::uint32_t>(f.ranks, 1) * elem_size,
                       true);
    case Collective::allgather:
      // In-network: bitwise-or all-reduce of the n-block buffer as bytes.
      // Ring: p-1 blocks. Bruck: ceil(lg p) steps of doubling block counts.
      if (innet) return model_allreduce("innet", f, bytes * f.ranks, 1);
      if (algorithm == "bruck") return bruck(f, bytes);
      return ring_half(f, bytes, false);
  }
  return std::nullopt;
}

}  // namespace inca
