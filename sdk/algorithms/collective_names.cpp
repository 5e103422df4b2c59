// The collectives' names and their host algorithms: what job files and
// commands parse, apart from the cost models (the job loader and its fuzzer
// need nothing else of the runtime).
#include <array>

#include "inca/collective.hpp"

namespace inca {
namespace {

constexpr std::array<std::string_view, 6> kNames = {"allreduce", "reduce",         "bcast",
                                                    "barrier",   "reduce_scatter", "allgather"};

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
  return host_algorithms(collective).front();
}

std::span<const std::string_view> host_algorithms(Collective collective) {
  static constexpr std::string_view kBinomial[] = {"binomial"};
  static constexpr std::string_view kDissemination[] = {"dissemination"};
  static constexpr std::string_view kRing[] = {"ring"};
  static constexpr std::string_view kAllgather[] = {"ring", "bruck"};
  switch (collective) {
    case Collective::reduce:
    case Collective::broadcast:
      return kBinomial;
    case Collective::barrier:
      return kDissemination;
    case Collective::allgather:
      return kAllgather;
    case Collective::allreduce:
    case Collective::reduce_scatter:
      return kRing;
  }
  return kRing;
}

}  // namespace inca
