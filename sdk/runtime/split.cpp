// Sub-communicators (Communicator::split): the members agree on the groups
// and on a free tag context with one all-gather over the parent, then share
// one tree service per group, created by whichever member gets there first.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>

#include <fmt/format.h>

#include "inca/communicator.hpp"
#include "runtime/collective_fibers.hpp"
#include "runtime/tree_service.hpp"

namespace inca {
namespace {

// What each rank says in the split's all-gather.
struct SplitEntry {
  std::int32_t color = 0;
  std::int32_t key = 0;
  std::uint32_t free_contexts = 0;  // bit c: tag context c is free on this rank's host
  std::uint32_t unused = 0;
  std::uint64_t first_attempt = 0;  // TreeService::first_attempt() of this rank's host
};
static_assert(sizeof(SplitEntry) == 24);

constexpr std::uint32_t kAllContexts = (1u << (Communicator::kMaxSubCommunicators + 1)) - 1;

}  // namespace

Communicator::Communicator(std::uint32_t rank, std::vector<std::uint32_t> hosts,
                           protocol::HostDriver& driver,
                           std::shared_ptr<runtime::TreeService> trees, std::uint32_t context,
                           bool timing_only)
    : Communicator(rank, static_cast<std::uint32_t>(hosts.size()), driver, *trees, timing_only,
                   nullptr) {
  hosts_ = std::move(hosts);
  group_trees_ = std::move(trees);
  context_ = context;
  trees_->contexts(hosts_[rank_]) |= static_cast<std::uint8_t>(1u << context_);
}

Communicator::~Communicator() {
  // Collectives still outstanding refer to this communicator: finish them
  // (their errors are lost; wait for requests to see them).
  if (fibers_->current() == 0)
    while (!pending_.empty()) (void)wait_collective(pending_.begin()->first);
  if (context_ == 0) return;
  trees_->contexts(hosts_[rank_]) &= static_cast<std::uint8_t>(~(1u << context_));
  trees_->first_attempt(hosts_[rank_]) =
      std::max(trees_->first_attempt(hosts_[rank_]), *attempts_ + 1);
}

std::uint32_t Communicator::world_rank(int rank) const {
  return hosts_.empty() ? static_cast<std::uint32_t>(rank) : hosts_[rank];
}

Result<std::shared_ptr<const std::vector<std::string>>> Communicator::out_of_band_allgather(
    std::string mine) {
  if (!trees_)
    return make_error(StatusCode::not_supported,
                      fmt::format("out-of-band all-gather on rank {}: only a World's "
                                  "communicators have an out-of-band channel",
                                  rank_));
  // The round's number is the same on every rank: all call in the same order.
  const std::uint64_t round = ++out_of_band_rounds_;
  trees_->post(round, rank_, std::move(mine));
  // Nobody leaves the barrier before every rank has posted.
  INCA_RETURN_IF_ERROR(barrier({.algorithm = std::string(host_algorithm(Collective::barrier))}));
  std::shared_ptr<const std::vector<std::string>> all = trees_->collect(round);
  if (!all || all->size() != size_)
    return make_error(
        StatusCode::internal,
        fmt::format("out-of-band all-gather on rank {}: round {} is gone", rank_, round));
  return all;
}

Result<std::unique_ptr<Communicator>> Communicator::split(int color, int key) {
  return split_as(color, key, SplitOptions{}, nullptr);
}

Result<std::unique_ptr<Communicator>> Communicator::split(int color, int key,
                                                          const JobIdentity& job) {
  if (job.priority > 9 || job.quota_percent > 100)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("split on rank {}: job '{}' has priority {} (0..9) and quota {}% "
                                  "(0..100)",
                                  rank_, job.name, job.priority, job.quota_percent));
  return split_as(color, key, SplitOptions{}, &job);
}

Result<std::unique_ptr<Communicator>> Communicator::split(int color, int key,
                                                          const SplitOptions& options) {
  return split_as(color, key, options, nullptr);
}

Result<std::unique_ptr<Communicator>> Communicator::split_as(int color, int key,
                                                             const SplitOptions& options,
                                                             const JobIdentity* job) {
  if (!trees_)
    return make_error(StatusCode::not_supported,
                      fmt::format("split on rank {}: only a World's communicators split", rank_));
  const std::uint32_t host = world_rank(rank());
  const SplitEntry mine{color < 0 ? -1 : color, key, ~trees_->contexts(host) & kAllContexts, 0,
                        trees_->first_attempt(host)};
  // Payload-free, the all-gather carries nothing: every rank's entries come
  // out of band, after it, so no rank holds a table for all the ranks while
  // they all wait in the all-gather (at 4,608 ranks, 500 MB at once).
  std::vector<SplitEntry> all(timing_only_ ? 0 : size_);
  // With a host algorithm, since a split must work without a tree; Bruck's,
  // as MPI libraries do for short blocks: ceil(lg p) steps, not the ring's p - 1.
  const CollectiveOptions by_host{.algorithm = "bruck"};
  INCA_RETURN_IF_ERROR(allgather(&mine, all.data(), sizeof(SplitEntry), Dtype::u8, by_host));
  const std::uint64_t split_id = state().attempt;  // the all-gather's: the same on every rank
  if (timing_only_) {
    // The all-gather above was timed but carried nothing.
    auto posted = out_of_band_allgather(
        std::string(reinterpret_cast<const char*>(&mine), sizeof(SplitEntry)));
    if (!posted.ok()) return posted.status();
    const std::vector<std::string>& entries = **posted;
    all.resize(size_);
    for (std::uint32_t r = 0; r < size_; ++r) {
      if (entries[r].size() != sizeof(SplitEntry))
        return make_error(StatusCode::internal,
                          fmt::format("split on rank {}: rank {} posted no colors", rank_, r));
      std::memcpy(&all[r], entries[r].data(), sizeof(SplitEntry));
    }
  }
  if (color < 0) return std::unique_ptr<Communicator>();

  std::vector<std::tuple<std::int32_t, std::uint32_t>> members;  // (key, parent rank)
  std::uint32_t free = kAllContexts;
  std::uint64_t first_attempt = 0;
  for (std::uint32_t r = 0; r < size_; ++r)
    if (all[r].color == color) {
      members.emplace_back(all[r].key, r);
      free &= all[r].free_contexts;
      first_attempt = std::max(first_attempt, all[r].first_attempt);
    }
  std::sort(members.begin(), members.end());
  free &= ~1u;  // context 0 is the world communicator's
  if (free == 0)
    return make_error(StatusCode::no_resource,
                      fmt::format("split on rank {}: a member of color {} already holds {} "
                                  "sub-communicators",
                                  rank_, color, kMaxSubCommunicators));
  std::vector<std::uint32_t> hosts;
  std::uint32_t new_rank = 0;
  for (const auto& [k, r] : members) {
    if (r == rank_) new_rank = static_cast<std::uint32_t>(hosts.size());
    hosts.push_back(world_rank(static_cast<int>(r)));
  }
  constexpr manager::TreePlacement kPlacement[] = {manager::TreePlacement::any,
                                                   manager::TreePlacement::scale_up,
                                                   manager::TreePlacement::scale_out};
  std::shared_ptr<runtime::TreeService> trees = trees_->group(
      split_id, color, hosts, job, kPlacement[static_cast<int>(options.tree)], options.window);
  auto sub = std::unique_ptr<Communicator>(
      new Communicator(new_rank, std::move(hosts), driver_, std::move(trees),
                       static_cast<std::uint32_t>(std::countr_zero(free)), timing_only_));
  *sub->attempts_ = first_attempt;
  return sub;
}

}  // namespace inca
