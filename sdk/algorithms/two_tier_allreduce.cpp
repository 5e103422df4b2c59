#include "algorithms/two_tier_allreduce.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "algorithms/split_once.hpp"
#include "inca/cost_model.hpp"

namespace inca::algorithms {
namespace {

constexpr const char* kName = "two_tier";

// Shard i of `count` elements: the first count % m shards hold one more.
struct Shard {
  std::size_t offset = 0;  // elements
  std::size_t count = 0;
};
Shard shard_of(std::size_t count, std::uint32_t m, std::uint32_t i) {
  const std::size_t q = count / m, r = count % m;
  return {i * q + std::min<std::size_t>(i, r), q + (i < r ? 1 : 0)};
}

// What one rank tells every other about its trees, out of band (so that
// payload-free runs agree too): its worst split or tree status and the
// pairs its trees aggregate.
struct TreeWord {
  std::int32_t code = 0;
  std::uint32_t dtypes = ~0u;
  std::uint32_t ops = ~0u;
  std::uint32_t unused = 0;  // spelled out: the word is sent as raw bytes
};

TreeWord tree_word(const Status& split, const Communicator* sub) {
  TreeWord w;
  if (!split.ok()) {
    w.code = static_cast<std::int32_t>(split.code());
    return w;
  }
  if (!sub) return w;  // a tier this communicator skips
  if (!sub->innet_available()) {
    w.code = static_cast<std::int32_t>(sub->innet_status().code());
    return w;
  }
  w.dtypes = sub->caps().dtypes;
  w.ops = sub->caps().ops;
  return w;
}

// Every rank's word, folded: the first failure, and what every tree aggregates.
Status agree(Communicator& comm, const TreeWord& domain, const TreeWord& shard,
             TwoTierState& state) {
  std::array<TreeWord, 2> mine{domain, shard};
  auto all = comm.out_of_band_allgather(
      std::string(reinterpret_cast<const char*>(mine.data()), sizeof(mine)));
  if (!all.ok()) return all.status();
  const std::vector<std::string>& entries = **all;
  SwitchCaps caps{~0u, ~0u};
  SwitchCaps domain_caps{~0u, ~0u};
  for (std::size_t r = 0; r < entries.size(); ++r) {
    std::array<TreeWord, 2> theirs{};
    if (entries[r].size() != sizeof(theirs))
      return make_error(StatusCode::internal,
                        fmt::format("two-tier all-reduce: rank {} posted no tree status", r));
    std::memcpy(theirs.data(), entries[r].data(), sizeof(theirs));
    for (std::size_t tier = 0; tier < theirs.size(); ++tier) {
      const TreeWord& w = theirs[tier];
      if (w.code != 0 && state.switch_status.ok())
        state.switch_status =
            make_error(static_cast<StatusCode>(w.code),
                       fmt::format("rank {} has no {} tree ({})", r, tier == 0 ? "domain" : "shard",
                                   to_string(static_cast<StatusCode>(w.code))));
      caps = caps & SwitchCaps{w.dtypes, w.ops};
    }
    domain_caps = domain_caps & SwitchCaps{theirs[0].dtypes, theirs[0].ops};
  }
  state.switch_caps = caps;
  // The all-gather or-reduces u32 words on the domain switches.
  if (state.switch_status.ok() && state.domain && !domain_caps.supports(Dtype::u32, ReduceOp::bor))
    state.switch_status = make_error(StatusCode::not_supported,
                                     fmt::format("the domain switches do not or-reduce u32, which "
                                                 "the all-gather needs (they aggregate {})",
                                                 domain_caps.describe()));
  return {};
}

Status split_tiers(Communicator& comm, const ModelTwoTier& tiers, TwoTierState& state) {
  const auto rank = static_cast<std::uint32_t>(comm.rank());
  const std::uint32_t domain = tiers.rank_domain[rank];
  std::uint32_t index = 0;
  for (std::uint32_t r = 0; r < rank; ++r) index += tiers.rank_domain[r] == domain;
  state.domains = tiers.domains;
  state.domain_ranks = tiers.domain_ranks;
  state.index = index;
  Status domain_split, shard_split;
  if (tiers.domain_ranks > 1) {
    auto d =
        comm.split(static_cast<int>(domain), comm.rank(), {.tree = SplitOptions::Tree::scale_up});
    domain_split = d.status();
    if (d.ok()) state.domain = std::move(*d);
  }
  if (tiers.domains > 1) {
    // The shard trees share a leaf's slots: each takes a part of the window.
    const std::uint32_t window = two_tier_shard_window(tiers.domain_window, tiers.domain_ranks);
    auto s = comm.split(static_cast<int>(index), comm.rank(),
                        {.tree = SplitOptions::Tree::scale_out, .window = window});
    shard_split = s.status();
    if (s.ok()) state.shard = std::move(*s);
  }
  return agree(comm, tree_word(domain_split, state.domain.get()),
               tree_word(shard_split, state.shard.get()), state);
}

// Step 3: each rank fills its shard of a zeroed buffer of u32 words, and the
// domain switch or-reduces them: every rank gets every shard, bit for bit.
Status allgather_in_domain(const TwoTierState& state, const AllreduceArgs& a, Shard shard) {
  const std::size_t esize = dtype_size(a.dtype);
  const std::size_t bytes = a.count * esize;
  const std::size_t words = (bytes + 3) / 4;
  // The words that hold any of this rank's shard; the others go header-only.
  const std::size_t first_word = shard.offset * esize / 4;
  const std::size_t end_word = ((shard.offset + shard.count) * esize + 3) / 4;
  const ElementRange own{first_word, shard.count > 0 ? end_word - first_word : 0};
  if (state.domain->timing_only())
    return state.domain->innet_allreduce(nullptr, nullptr, words, Dtype::u32, ReduceOp::bor, false,
                                         own);
  std::vector<std::uint32_t> gathered(words, 0);
  auto* out = static_cast<std::byte*>(a.recv);
  std::memcpy(reinterpret_cast<std::byte*>(gathered.data()) + shard.offset * esize,
              out + shard.offset * esize, shard.count * esize);
  INCA_RETURN_IF_ERROR(state.domain->innet_allreduce(gathered.data(), gathered.data(), words,
                                                     Dtype::u32, ReduceOp::bor, false, own));
  std::memcpy(out, gathered.data(), bytes);
  return {};
}

// Where the domains come from: a World's fabric model with scale-up domains
// of equal sizes.
Status check_domains(const Communicator& comm) {
  const ModelFabric* model = comm.model();
  if (!model || model->ranks != static_cast<std::uint32_t>(comm.size()))
    return make_error(StatusCode::not_supported,
                      fmt::format("two-tier all-reduce on rank {}: runs on a World's communicator, "
                                  "whose fabric model says where the scale-up domains are",
                                  comm.rank()));
  const ModelTwoTier& tiers = model->two_tier;
  if (tiers.rank_domain.size() != model->ranks)
    return make_error(StatusCode::not_supported,
                      fmt::format("two-tier all-reduce on rank {}: the fabric has no scale-up "
                                  "domains (hosts with a port to a domain switch beside their NIC)",
                                  comm.rank()));
  if (tiers.domain_ranks == 0)
    return make_error(StatusCode::not_supported,
                      fmt::format("two-tier all-reduce on rank {}: its {} scale-up domains hold "
                                  "different numbers of ranks, so shards would miss domains",
                                  comm.rank(), tiers.domains));
  return {};
}

}  // namespace

std::uint32_t two_tier_shard_window(std::uint32_t window, std::uint32_t domain_ranks) {
  return std::max<std::uint32_t>(1, window / std::max<std::uint32_t>(1, domain_ranks));
}

Status two_tier_prepare(Communicator& comm) {
  return split_once<TwoTierState>(comm, kName, "two-tier all-reduce", [&](TwoTierState& state) {
    Status domains = check_domains(comm);
    return domains.ok() ? split_tiers(comm, comm.model()->two_tier, state) : domains;
  });
}

Status two_tier_allreduce(Communicator& comm, const AllreduceArgs& a) {
  auto* state = static_cast<TwoTierState*>(comm.algorithm_state(kName).get());
  if (!state || !state->ready)
    return make_error(StatusCode::internal,
                      fmt::format("two-tier all-reduce on rank {}: run without its set-up "
                                  "(AllreduceAlgorithm::prepare)",
                                  comm.rank()));
  if (!state->switch_status.ok())
    return make_error(StatusCode::not_supported,
                      fmt::format("two-tier all-reduce on rank {}: {}", comm.rank(),
                                  state->switch_status.to_string()));
  if (!state->switch_caps.supports(a.dtype, a.op))
    return make_error(StatusCode::not_supported,
                      fmt::format("two-tier all-reduce on rank {}: its switches do not aggregate "
                                  "{} {} (they aggregate {})",
                                  comm.rank(), to_string(a.dtype), to_string(a.op),
                                  state->switch_caps.describe()));
  if (a.count == 0) return {};
  const std::size_t esize = dtype_size(a.dtype);
  const Shard shard =
      shard_of(a.count, std::max<std::uint32_t>(1, state->domain_ranks), state->index);
  // 1. Reduce-scatter in the domain switch: each rank is answered with data
  // for its shard's chunks only (step 3 writes the rest of recv).
  if (state->domain) {
    INCA_RETURN_IF_ERROR(state->domain->innet_allreduce(a.send, a.recv, a.count, a.dtype, a.op,
                                                        a.reproducible, {},
                                                        ElementRange{shard.offset, shard.count}));
  } else if (!comm.timing_only() && a.send != a.recv) {
    std::memcpy(a.recv, a.send, a.count * esize);
  }
  // 2. The shard across domains, on the scale-out switches.
  if (state->shard && shard.count > 0) {
    void* mine = a.recv ? static_cast<std::byte*>(a.recv) + shard.offset * esize : nullptr;
    INCA_RETURN_IF_ERROR(
        state->shard->innet_allreduce(mine, mine, shard.count, a.dtype, a.op, a.reproducible));
  }
  // 3. All-gather by the domain switch's multicast.
  if (state->domain) return allgather_in_domain(*state, a, shard);
  return {};
}

}  // namespace inca::algorithms
