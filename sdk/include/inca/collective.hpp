// The collectives a communicator offers besides all-reduce, their algorithm
// names, the nccl-tests bus-bandwidth factor of each, and their cost model.
// docs/model.md ("Other collectives") derives the formulas.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inca/cost_model.hpp"
#include "inca/time.hpp"

namespace inca {

/// A collective operation.
enum class Collective { allreduce, reduce, broadcast, barrier, reduce_scatter, allgather };

/// "allreduce", "reduce", "bcast", "barrier", "reduce_scatter", "allgather".
std::string_view to_string(Collective collective);
/// Parses the names above ("broadcast" is accepted for "bcast"); nullopt when unknown.
std::optional<Collective> parse_collective(std::string_view name);

/// Options of one reduce, broadcast, barrier, reduce-scatter or all-gather.
struct CollectiveOptions {
  /// "auto", "innet", or one of the collective's host algorithms (see
  /// host_algorithms()). "auto" picks the one the cost model predicts
  /// fastest among those this communicator can run.
  std::string algorithm = "auto";
  /// Reduce in a fixed order so results are bit-identical across runs.
  bool reproducible = false;
};

/// The default host (point-to-point) algorithm of `collective`: "binomial"
/// for reduce and broadcast, "dissemination" for barrier, "ring" for
/// reduce-scatter and all-gather. All-reduce has several (see
/// allreduce_names()); this returns "ring" for it.
std::string_view host_algorithm(Collective collective);

/// Every host algorithm of a collective other than all-reduce, the default
/// first: all-gather has "ring" and "bruck" (ceil(lg p) steps, for small
/// blocks), the others one each.
std::span<const std::string_view> host_algorithms(Collective collective);

/// nccl-tests' bus-bandwidth factor: busbw = algbw x factor, with algbw =
/// S / time and S the size nccl-tests uses (the whole buffer for all-reduce,
/// reduce and broadcast; the total n x block for reduce-scatter and
/// all-gather). 2(n-1)/n, 1, 1, (n-1)/n, (n-1)/n; 0 for barrier.
double busbw_factor(Collective collective, std::uint32_t ranks);

/// Predicted time of `algorithm` ("innet" or the host algorithm) running
/// `collective` where each rank contributes `bytes` (for reduce-scatter, the
/// whole send buffer of n blocks; for all-gather, one rank's block; ignored
/// for barrier) of `elem_size`-byte elements. nullopt without a model.
std::optional<Time> model_collective(Collective collective, const std::string& algorithm,
                                     const ModelFabric& fabric, std::size_t bytes,
                                     std::size_t elem_size);

}  // namespace inca
