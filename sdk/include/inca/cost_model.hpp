// Closed-form (alpha-beta) predictions of collective times on a fabric, the
// `model_us` column of `inca bench`. docs/model.md derives each formula.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inca/time.hpp"

namespace inca {

/// One step of an exchange pattern: every participating rank sends to one
/// partner at once. `links` is the longest path, `sharing` the most flows on
/// one link direction (oversubscribed uplinks slow the step down).
struct ExchangeStep {
  std::uint32_t links = 2;
  std::uint32_t sharing = 1;
};

/// The fabric quantities the formulas need.
struct ModelFabric {
  std::uint32_t ranks = 1;
  double link_gbps = 100;
  Time link_latency = 0;            ///< per link
  std::size_t packet_overhead = 0;  ///< header + framing bytes per packet
  std::size_t p2p_payload = 0;      ///< payload per point-to-point packet
  std::size_t slot_payload = 0;     ///< payload per aggregation packet
  std::uint32_t window = 1;         ///< aggregation slots in flight per host
  std::uint32_t tree_links = 0;     ///< links from a host up to the tree's root
  /// Ranks per host group of "hierarchical" (0: kDefaultHierarchicalGroup).
  std::uint32_t group = 0;
  double ring_links = 0;  ///< mean links between ring neighbours
  /// Recursive doubling / halving: step k pairs new ranks differing in bit k.
  std::vector<ExchangeStep> xor_steps;
  /// The non-power-of-two fold: ranks 2i and 2i+1 for i < p - pof2.
  ExchangeStep fold_step;
  /// Binomial tree: step k pairs rank r (bit k set, lower bits clear) with r - 2^k.
  std::vector<ExchangeStep> binomial_steps;
};

/// Predicted time of `algorithm` ("ring", "innet", "recursive_doubling",
/// "rabenseifner", "binomial_tree", "hierarchical") reducing `bytes` of
/// elements of `elem_size` bytes; nullopt for algorithms without a model.
std::optional<Time> model_allreduce(const std::string& algorithm, const ModelFabric& fabric,
                                    std::size_t bytes, std::size_t elem_size);

}  // namespace inca
