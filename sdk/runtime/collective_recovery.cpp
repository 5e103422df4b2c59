// How a communicator runs one collective so that it ends exact or with an
// error, never a hang, and leaves the communicator usable
// (docs/reliability.md):
// - every attempt gets a number, the same on every rank; it tags the attempt's
//   in-network chunks (switches never mix two attempts) and selects private
//   point-to-point tags (an earlier attempt's messages never match);
// - an attempt that times out makes the tree service re-form the tree, then
//   the ranks agree: if every rank failed it recoverably, all re-run it from
//   the user's send buffer (the receive buffer is rewritten, so a re-run is
//   idempotent), in-network on the re-formed tree or with a host algorithm,
//   as the policy says; otherwise the error is returned.
#include <fmt/format.h>

#include "inca/algorithm.hpp"
#include "inca/communicator.hpp"
#include "manager/aggregation_manager.hpp"
#include "protocol/endpoint_types.hpp"
#include "protocol/host_driver.hpp"
#include "protocol/reliable_p2p.hpp"
#include "runtime/collective_fibers.hpp"
#include "runtime/trace_span.hpp"
#include "runtime/tree_service.hpp"

namespace inca {
namespace {

// The private tags are split into one context per communicator a rank may
// hold (the world's and kMaxSubCommunicators sub-communicators), so that
// their collectives never retire each other's tags. Within a context, attempt
// numbers select one of kTagGroups groups; tags are retired when their
// attempt ends, and an endpoint remembers the last P2pChannel::kRetiredTags
// of them (fewer than a context's cycle), so a tag is reused only long after
// any straggler of its previous attempt.
constexpr std::uint64_t kContexts = Communicator::kMaxSubCommunicators + 1;
constexpr std::uint64_t kTagGroups = 0x8000 / Communicator::kCollectiveTags / kContexts;
static_assert(protocol::P2pChannel::kRetiredTags < kTagGroups * Communicator::kCollectiveTags);

}  // namespace

Communicator::Communicator(std::uint32_t rank, std::uint32_t size, protocol::HostDriver& driver,
                           runtime::TreeService& trees, bool timing_only, const ModelFabric* model,
                           runtime::ModelAnswers* answers)
    : Communicator(rank, size, driver, nullptr, Status(), timing_only, model) {
  model_answers_ = answers;
  trees_ = &trees;
  attempts_ = &trees.attempts(rank);
  refresh_tree();
}

void Communicator::refresh_tree() {
  if (!trees_) return;
  const runtime::TreeService::Snapshot s = trees_->current();
  tree_hold_ = s.plan;
  tree_ = s.plan.get();
  tree_generation_ = s.generation;
  innet_status_ = s.plan ? Status() : s.status;
  if (!s.plan && innet_status_.ok())
    innet_status_ = make_error(StatusCode::no_tree, "the tree service holds no tree");
}

std::uint64_t Communicator::begin_attempt(Dtype dtype, ReduceOp op) {
  CollectiveState& st = state();
  st.in_collective = true;
  st.dtype = dtype;
  st.op = op;
  st.attempt = ++*attempts_;
  return st.attempt;
}

void Communicator::end_attempt() {
  state().in_collective = false;
  for (int k = 0; k < kCollectiveTags; ++k)
    driver_.endpoint().retire_tag(wire_tag(kCollectiveTag + k));
}

void Communicator::hold_tree(std::uint64_t attempt) {
  tree_queue_.push_back(attempt);
  if (tree_queue_.front() == attempt) return;
  runtime::TraceSpan span = trace_wait("the tree, held by a collective started earlier");
  driver_.block_until([&] { return tree_queue_.front() == attempt; }, kNever);
}

void Communicator::release_tree(std::uint64_t attempt) {
  std::erase(tree_queue_, attempt);
}

std::uint16_t Communicator::wire_tag(int tag) const {
  const int k = tag - kCollectiveTag;
  if (k < 0 || k >= kCollectiveTags) return static_cast<std::uint16_t>(tag);
  const std::uint64_t group = context_ * kTagGroups + state().attempt % kTagGroups;
  return static_cast<std::uint16_t>(kCollectiveTag | (group * kCollectiveTags) |
                                    static_cast<std::uint64_t>(k));
}

protocol::MessageKind Communicator::message_kind(int tag) const {
  const int k = tag - kCollectiveTag;
  const CollectiveState& st = state();
  if (!st.in_collective || k < 0 || k >= kCollectiveTags) return {};
  return {st.dtype, st.op};
}

Status Communicator::run_collective(const AllreduceAlgorithm& first, const AllreduceArgs& args,
                                    bool may_rerun, bool holds_tree) {
  const AllreduceAlgorithm* algorithm = &first;
  // A non-blocking collective's error goes to its wait(): re-running it
  // would take attempt numbers out of the order every rank started them in.
  const bool nonblocking = fibers_->current() != 0;
  for (std::uint32_t rerun = 0;; ++rerun) {
    // The attempt number is taken before anything can block, so that it
    // follows the order in which the rank started its collectives.
    const std::uint64_t attempt = begin_attempt(args.dtype, args.op);
    const std::uint64_t generation = tree_generation_;
    const bool queued = holds_tree || algorithm->uses_switches;
    runtime::TraceSpan span = trace_span(TraceDetail::collectives, "attempt", algorithm->name, [&] {
      return trace::Args{{"attempt", static_cast<std::int64_t>(attempt)},
                         {"rerun", static_cast<std::int64_t>(rerun)}};
    });
    if (queued) hold_tree(attempt);
    Status s = algorithm->run(*this, args);
    end_attempt();
    if (queued) release_tree(attempt);
    if (!s.ok()) span.add("status", s.to_string());
    span.end();
    CollectiveState& st = state();
    if (s.ok() && !st.deferred_error.ok()) s = std::exchange(st.deferred_error, Status());
    if (!trees_) return s;
    const bool timed_out = s.code() == StatusCode::timeout;
    // Failures the fabric was part of: the ranks must agree on what follows.
    const bool on_fabric = timed_out || s.code() == StatusCode::mismatch;
    runtime::TreeService::Report report;
    report.outcome = s.ok()      ? runtime::Outcome::ok
                     : timed_out ? runtime::Outcome::recoverable
                                 : runtime::Outcome::fatal;
    // A failed in-network attempt leaves chunks half aggregated in the tree's
    // slots, and the ranks' chunk sequences apart when counts differed: the
    // tree is re-formed once every rank is done with it.
    report.tree_suspect = algorithm->uses_switches && on_fabric;
    report.generation = generation;
    report.signature =
        fmt::format("{} of {} x {} {}{}", first.name, args.count, to_string(args.dtype),
                    to_string(args.op), args.reproducible ? " reproducible" : "");
    trees_->report(attempt, rank_, report, now());
    if (!on_fabric) return s;

    // Either every rank re-runs this attempt or none does; and nobody uses
    // the re-formed tree before everyone has left the old one.
    Time poll = 10 * kPicosPerMicro;
    std::optional<runtime::TreeService::Verdict> verdict;
    runtime::TraceSpan agreeing = trace_wait("every rank's outcome of the failed attempt");
    while (!(verdict = trees_->verdict(attempt, now()))) {
      driver_.wait_until(now() + poll);
      poll = std::min<Time>(poll * 2, kPicosPerMilli);
    }
    if (verdict->rerun) agreeing.add("verdict", std::string("re-run"));
    agreeing.end();
    const RecoveryOptions& policy = trees_->options();
    auto give_up = [&](const std::string& why) {
      st.last_note += (st.last_note.empty() ? "" : "; ") + algorithm->name + " failed (" +
                      s.to_string() + "); " + why;
      return s;
    };
    if (verdict->mismatch && s.code() != StatusCode::mismatch)
      return make_error(StatusCode::mismatch,
                        fmt::format("rank {}: {} failed ({}): {}", rank_, algorithm->name,
                                    s.to_string(), verdict->why));
    if (!timed_out) return s;
    if (!verdict->rerun) return give_up("not re-run: " + verdict->why);
    if (nonblocking) return give_up("not re-run: a non-blocking collective returns its error");
    if (!may_rerun) return give_up("not re-run: the switch primitive never falls back");
    if (algorithm->uses_switches && policy.on_switch_failure == SwitchFailurePolicy::error)
      return give_up("policy 'error': not re-run; later collectives use the re-formed tree");
    if (rerun >= policy.max_reruns)
      return give_up(fmt::format("not re-run: {} re-runs already", rerun));

    tree_hold_ = verdict->tree.plan;
    tree_ = tree_hold_.get();
    tree_generation_ = verdict->tree.generation;
    innet_status_ = tree_ ? Status() : verdict->tree.status;
    const std::string failed = algorithm->name;
    std::string how;
    if (algorithm->uses_switches) {
      const bool fallback =
          policy.on_switch_failure == SwitchFailurePolicy::fallback || !innet_available();
      trees_->count_rerun(attempt, fallback);
      if (fallback) {
        algorithm = find_allreduce("ring");
        how = innet_available()
                  ? "re-ran with ring (policy 'fallback')"
                  : "no tree could be formed (" + innet_status_.to_string() + "); re-ran with ring";
      } else {
        how = "re-formed the tree and re-ran in-network";
      }
    } else {
      trees_->count_rerun(attempt, false);
      how = "re-ran it";
    }
    st.last_note += (st.last_note.empty() ? "" : "; ") + failed + " attempt failed (" +
                    s.to_string() + "); " + how;
    st.last_algorithm = algorithm->name;
  }
}

}  // namespace inca
