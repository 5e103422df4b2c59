// Cost models of the collectives other than all-reduce. The in-network ones
// and the binomial trees are one call or one half of an all-reduce modelled in
// cost_model.cpp; the whole-block ring halves and the dissemination barrier
// have formulas of their own (docs/model.md, "Other collectives").
#include <algorithm>
#include <array>
#include <cmath>

#include "inca/collective.hpp"

namespace inca {
namespace {

constexpr std::array<std::string_view, 6> kNames = {"allreduce", "reduce",         "bcast",
                                                    "barrier",   "reduce_scatter", "allgather"};

std::optional<Time> half(std::optional<Time> t) {
  if (!t) return t;
  return *t / 2;
}

// Picoseconds to serialise `bytes` on the fabric's links.
double ser(const ModelFabric& f, double bytes) {
  return bytes * 8000.0 / f.link_gbps;
}

// One whole message of m bytes crossing `links` links: serialised once as
// p2p packets, then store-and-forward of one packet per switch, plus latency.
double one_way(const ModelFabric& f, std::size_t m, double links) {
  const std::size_t packets = std::max<std::size_t>(1, (m + f.p2p_payload - 1) / f.p2p_payload);
  const double pkt = static_cast<double>(std::min(m, f.p2p_payload) + f.packet_overhead);
  return ser(f, static_cast<double>(m + packets * f.packet_overhead)) + (links - 1) * ser(f, pkt) +
         links * static_cast<double>(f.link_latency);
}

// Ring reduce-scatter / all-gather moving whole blocks: p-1 steps, each a
// block to the neighbour (at the mean neighbour distance) before the next.
Time ring_half(const ModelFabric& f, std::size_t block) {
  if (f.ranks <= 1 || block == 0) return 0;
  return static_cast<Time>(std::llround((f.ranks - 1) * one_way(f, block, f.ring_links)));
}

// Dissemination: ceil(lg p) rounds; a round ends when the empty message has
// arrived and its send was acknowledged (a round trip), on the longest path.
Time dissemination(const ModelFabric& f) {
  std::uint32_t longest = 2;
  for (const ExchangeStep& step : f.xor_steps) longest = std::max(longest, step.links);
  int rounds = 0;
  for (std::uint32_t d = 1; d < f.ranks; d <<= 1) ++rounds;
  return static_cast<Time>(std::llround(rounds * 2 * one_way(f, 0, longest)));
}

}  // namespace

std::string_view to_string(Collective collective) {
  return kNames[static_cast<std::size_t>(collective)];
}

std::optional<Collective> parse_collective(std::string_view name) {
  if (name == "broadcast") return Collective::broadcast;
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<Collective>(i);
  return std::nullopt;
}

std::string_view host_algorithm(Collective collective) {
  switch (collective) {
    case Collective::reduce:
    case Collective::broadcast:
      return "binomial";
    case Collective::barrier:
      return "dissemination";
    case Collective::allreduce:
    case Collective::reduce_scatter:
    case Collective::allgather:
      return "ring";
  }
  return "ring";
}

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
  if (!innet && algorithm != host_algorithm(collective)) {
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
      return ring_half(f, bytes / elem_size / std::max<std::uint32_t>(f.ranks, 1) * elem_size);
    case Collective::allgather:
      // In-network: bitwise-or all-reduce of the n-block buffer as bytes.
      // Ring: p-1 blocks.
      if (innet) return model_allreduce("innet", f, bytes * f.ranks, 1);
      return ring_half(f, bytes);
  }
  return std::nullopt;
}

}  // namespace inca
