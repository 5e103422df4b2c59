#include "runtime/tree_service.hpp"

#include <fmt/format.h>

namespace inca::runtime {
namespace {

// Agreement records older than this many attempts are forgotten: every rank
// has long moved past them.
constexpr std::uint64_t kKeptRecords = 64;

}  // namespace

TreeService::TreeService(const topology::Topology& topology, manager::AggregationManager& manager,
                         fabric::Fabric& fabric, manager::TreeRequest request, std::uint32_t ranks,
                         const RecoveryOptions& options)
    : topology_(topology),
      manager_(manager),
      fabric_(fabric),
      request_(std::move(request)),
      ranks_(ranks),
      options_(options),
      attempts_(ranks, 0),
      contexts_(ranks, 1),
      first_attempts_(ranks, 0) {}

TreeService::~TreeService() {
  {
    std::lock_guard lock(mutex_);
    drop_tree();
  }
  // A sub-communicator's recoveries count in the world's stats.
  if (root_ != this) {
    std::lock_guard lock(root_->mutex_);
    add_stats(root_->counts_);
  }
}

std::shared_ptr<TreeService> TreeService::group(std::uint64_t split, std::int32_t color,
                                                const std::vector<std::uint32_t>& hosts,
                                                const JobIdentity* job,
                                                manager::TreePlacement placement,
                                                std::uint32_t window) {
  std::lock_guard lock(mutex_);
  std::erase_if(groups_, [](const auto& entry) { return entry.second.expired(); });
  std::weak_ptr<TreeService>& slot = groups_[{split, color}];
  if (auto existing = slot.lock()) return existing;
  manager::TreeRequest request = request_;
  request.hosts = hosts;
  if (job) request.identity = *job;
  request.placement = placement;
  if (window > 0) request.slots = window;
  auto created = std::make_shared<TreeService>(topology_, manager_, fabric_, std::move(request),
                                               static_cast<std::uint32_t>(hosts.size()), options_);
  created->root_ = root_;
  created->contexts_.clear();
  created->first_attempts_.clear();
  created->start();
  slot = created;
  return created;
}

void TreeService::post(std::uint64_t id, std::uint32_t rank, std::string entry) {
  std::lock_guard lock(mutex_);
  OutOfBand& exchange = out_of_band_[id];
  if (!exchange.entries) exchange.entries = std::make_shared<std::vector<std::string>>(ranks_);
  exchange.entries->at(rank) = std::move(entry);
}

std::shared_ptr<const std::vector<std::string>> TreeService::collect(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = out_of_band_.find(id);
  if (it == out_of_band_.end()) return nullptr;
  std::shared_ptr<const std::vector<std::string>> entries = it->second.entries;
  if (++it->second.collected == ranks_) out_of_band_.erase(it);
  return entries;
}

void TreeService::start() {
  std::lock_guard lock(mutex_);
  current_ = install_tree();
}

TreeService::Snapshot TreeService::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

TreeService::Snapshot TreeService::install_tree() {
  std::lock_guard fabric_lock(root_->fabric_mutex_);
  manager::TreeRequest req = request_;
  // What the manager learns from the fabric: which switches and links are dead.
  for (std::uint32_t sw : topology_.switch_nodes())
    if (!fabric_.node_alive(sw)) req.avoid_switches.push_back(sw);
  for (std::uint32_t n = 0; n < topology_.nodes().size(); ++n)
    for (std::uint16_t p = 0; p < topology_.node(n).ports.size(); ++p)
      if (!fabric_.link_alive(n, p)) req.avoid_links.emplace_back(n, p);
  Snapshot s;
  s.generation = current_.generation;
  auto plan = manager_.allocate(req);
  if (!plan.ok()) {
    s.status = plan.status();
    return s;
  }
  for (std::size_t i = 0; i < plan->installs.size(); ++i) {
    const auto& [node, install] = plan->installs[i];
    Status installed = fabric_.install(node, install);
    if (installed.ok()) continue;
    for (std::size_t j = 0; j < i; ++j)
      (void)fabric_.remove(plan->installs[j].first, {plan->job, plan->tree});
    (void)manager_.release(*plan);
    s.status = installed;
    return s;
  }
  for (const manager::HostAttachment& m : plan->members)
    fabric_.attach(m.host, plan->tree, m.host_port);
  s.plan = std::make_shared<const manager::TreePlan>(std::move(*plan));
  return s;
}

void TreeService::drop_tree() {
  std::lock_guard fabric_lock(root_->fabric_mutex_);
  if (const auto& old = current_.plan) {
    // Switches that are alive drop the old tree's state; dead ones lost it.
    for (const auto& [node, install] : old->installs)
      if (fabric_.node_alive(node)) (void)fabric_.remove(node, {old->job, old->tree});
    (void)manager_.release(*old);  // and its streaming lock
  }
  current_.plan.reset();
  streaming_held_ = false;
  lock_answers_.clear();
}

Status TreeService::streaming_lock(std::uint64_t attempt) {
  std::lock_guard lock(mutex_);
  auto [answer, fresh] = lock_answers_.try_emplace(attempt);
  if (!fresh) return answer->second;
  if (!streaming_held_ && current_.plan) {
    std::lock_guard fabric_lock(root_->fabric_mutex_);
    answer->second = manager_.lock_streaming(*current_.plan);
    streaming_held_ = answer->second.ok();
  } else if (!current_.plan) {
    answer->second = current_.status;
  }
  while (lock_answers_.size() > kKeptRecords) lock_answers_.erase(lock_answers_.begin());
  return answer->second;
}

void TreeService::reform(std::uint64_t generation) {
  if (generation != current_.generation) return;  // re-formed already
  drop_tree();
  current_ = install_tree();
  current_.generation = generation + 1;
  if (current_.plan) ++counts_.trees_reformed;
  if (trace::TraceSink* t = fabric_.trace())
    t->fabric_instant(
        current_.plan ? "tree re-formed" : "tree lost: no tree could be formed", fabric_.now(),
        {{"generation", static_cast<std::int64_t>(current_.generation)},
         {"status", current_.plan ? std::string("ok") : current_.status.to_string()}});
}

void TreeService::report(std::uint64_t attempt, std::uint32_t rank, const Report& report,
                         Time now) {
  std::lock_guard lock(mutex_);
  const Outcome outcome = report.outcome;
  if (rank >= ranks_ || outcome == Outcome::pending) return;
  Record& r = records_[attempt];
  if (r.outcomes.empty()) {
    r.outcomes.assign(ranks_, Outcome::pending);
    r.signatures.assign(ranks_, {});
  }
  if (r.decided || r.outcomes[rank] != Outcome::pending) return;
  r.outcomes[rank] = outcome;
  r.signatures[rank] = report.signature;
  if (report.tree_suspect) {
    r.tree_suspect = true;
    r.generation = report.generation;
  }
  ++r.reported;
  if (outcome != Outcome::ok && r.close_at == kNever) r.close_at = now + options_.agreement_timeout;
  while (!records_.empty() && records_.begin()->first + kKeptRecords < attempt)
    records_.erase(records_.begin());
}

TreeService::Verdict TreeService::decide(const Record& r, bool complete) {
  if (r.tree_suspect) reform(r.generation);
  Verdict v;
  v.tree = current_;
  ++counts_.collectives_failed;
  if (!complete) {
    ++counts_.agreements_incomplete;
    std::uint32_t missing = 0;
    for (Outcome o : r.outcomes) missing += o == Outcome::pending ? 1 : 0;
    v.why = fmt::format("{} of {} ranks did not report within {:.1f} ms", missing, ranks_,
                        to_micros(options_.agreement_timeout) / 1000);
    return v;
  }
  for (std::uint32_t rank = 1; rank < r.signatures.size(); ++rank)
    if (r.signatures[rank] != r.signatures[0]) {
      v.mismatch = true;
      v.why = fmt::format("ranks called it with different arguments (rank 0: {}; rank {}: {})",
                          r.signatures[0], rank, r.signatures[rank]);
      return v;
    }
  for (std::uint32_t rank = 0; rank < r.outcomes.size(); ++rank) {
    if (r.outcomes[rank] == Outcome::ok) {
      v.why = fmt::format("rank {} completed it, so it cannot run again", rank);
      return v;
    }
    if (r.outcomes[rank] == Outcome::fatal) {
      v.why = fmt::format("rank {} failed it in a way a re-run would repeat", rank);
      return v;
    }
  }
  v.rerun = true;
  return v;
}

std::optional<TreeService::Verdict> TreeService::verdict(std::uint64_t attempt, Time now) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(attempt);
  if (it == records_.end()) return std::nullopt;
  Record& r = it->second;
  if (!r.decided) {
    const bool complete = r.reported == ranks_;
    if (!complete && now < r.close_at) return std::nullopt;
    r.decided = decide(r, complete);
  }
  return r.decided;
}

void TreeService::count_rerun(std::uint64_t attempt, bool fallback) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(attempt);
  if (it == records_.end() || it->second.rerun_counted) return;
  it->second.rerun_counted = true;
  ++counts_.reruns;
  if (fallback) ++counts_.fallbacks;
}

void TreeService::add_stats(WorldStats& stats) const {
  std::lock_guard lock(mutex_);
  stats.collectives_failed += counts_.collectives_failed;
  stats.trees_reformed += counts_.trees_reformed;
  stats.reruns += counts_.reruns;
  stats.fallbacks += counts_.fallbacks;
  stats.agreements_incomplete += counts_.agreements_incomplete;
}

}  // namespace inca::runtime
