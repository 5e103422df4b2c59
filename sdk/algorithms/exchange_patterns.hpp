// Measures the host algorithms' exchange patterns on a routed topology for
// the cost model (ModelFabric::xor_steps, fold_step, binomial_steps).
#pragma once

#include "inca/cost_model.hpp"
#include "topology/topology.hpp"

namespace inca::algorithms {

/// Fills the exchange patterns of `fabric.ranks` ranks on hosts 0..p-1.
void add_exchange_patterns(ModelFabric& fabric, const topology::Topology& topology);

}  // namespace inca::algorithms
