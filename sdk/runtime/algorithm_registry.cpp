#include <deque>
#include <mutex>

#include "algorithms/binomial_tree_allreduce.hpp"
#include "algorithms/hierarchical_allreduce.hpp"
#include "algorithms/innet_allreduce.hpp"
#include "algorithms/quantized_allreduce.hpp"
#include "algorithms/rabenseifner_allreduce.hpp"
#include "algorithms/recursive_doubling_allreduce.hpp"
#include "algorithms/ring_allreduce.hpp"
#include "algorithms/two_tier_allreduce.hpp"
#include "inca/algorithm.hpp"

namespace inca {
namespace {

// Built-ins are added by the registry itself: self-registering statics in a
// static library would be dropped by the linker.
struct Registry {
  std::mutex mutex;
  std::deque<AllreduceAlgorithm> algorithms;  // deque: stable addresses

  Registry() {
    algorithms.push_back({"innet", "in-network tree all-reduce (switch aggregation)", true,
                          algorithms::innet_allreduce});
    algorithms.push_back({"innet_quantized",
                          "in-network on integer-only switches: f32/f64 sum as int32 with a "
                          "shared exponent per packet (SwitchML)",
                          true, algorithms::quantized_allreduce});
    algorithms.push_back(
        {"ring", "pipelined ring: reduce-scatter + all-gather", false, algorithms::ring_allreduce});
    algorithms.push_back({"recursive_doubling", "recursive doubling: lg p whole-buffer exchanges",
                          false, algorithms::recursive_doubling_allreduce});
    algorithms.push_back({"rabenseifner",
                          "Rabenseifner: recursive-halving reduce-scatter + recursive-doubling "
                          "all-gather",
                          false, algorithms::rabenseifner_allreduce});
    algorithms.push_back({"binomial_tree", "binomial reduce to rank 0 + binomial broadcast", false,
                          algorithms::binomial_tree_allreduce});
    // Never one of auto's candidates: on this fabric model it is never faster
    // than flat innet (docs/model.md).
    algorithms.push_back({"hierarchical",
                          "CollNet-style: binomial reduce in host groups, leaders in-network, "
                          "binomial broadcast back",
                          true, algorithms::hierarchical_allreduce,
                          algorithms::hierarchical_prepare});
    // Only on fabrics with scale-up domains (NVLink racks), so not one of
    // auto's candidates either: it asks for them by name.
    algorithms.push_back({"two_tier",
                          "NVLink + InfiniBand: reduce-scatter in each domain's switch, shards "
                          "in-network across domains, all-gather by the domain switch",
                          true, algorithms::two_tier_allreduce, algorithms::two_tier_prepare});
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

Status register_allreduce(AllreduceAlgorithm algorithm) {
  if (algorithm.name.empty() || algorithm.name == "auto" || !algorithm.run)
    return make_error(StatusCode::invalid_argument,
                      "an algorithm needs a name other than 'auto' and a function");
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (const auto& a : r.algorithms)
    if (a.name == algorithm.name)
      return make_error(StatusCode::invalid_argument,
                        "an all-reduce algorithm named '" + algorithm.name + "' exists");
  r.algorithms.push_back(std::move(algorithm));
  return {};
}

const AllreduceAlgorithm* find_allreduce(const std::string& name) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (const auto& a : r.algorithms)
    if (a.name == name) return &a;
  return nullptr;
}

std::vector<std::string> allreduce_names() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& a : r.algorithms) names.push_back(a.name);
  return names;
}

}  // namespace inca
