// A rank's non-blocking collectives, each on a fiber of its own inside the
// rank, and the HostDriver that every communicator of the rank uses in place
// of the fabric's. A blocking wait on a collective's fiber suspends that
// fiber only and hands control back to the rank's main context; a blocking
// wait in the main context lets the fabric deliver packets while it resumes
// every fiber whose wait is over. So several collectives progress at once
// while the rank program runs, as MPI's non-blocking collectives do, without
// threads: the fabric still sees one blocking rank.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "protocol/host_driver.hpp"
#include "runtime/fiber_switch.hpp"

namespace inca::runtime {

class CollectiveFibers final : public protocol::HostDriver,
                               public std::enable_shared_from_this<CollectiveFibers> {
 public:
  explicit CollectiveFibers(protocol::HostDriver& fabric) : fabric_(fabric) {}
  /// `driver` itself when it is one (a sub-communicator shares its parent's),
  /// else a new one over it.
  static std::shared_ptr<CollectiveFibers> of(protocol::HostDriver& driver);
  ~CollectiveFibers() override;
  CollectiveFibers(const CollectiveFibers&) = delete;
  CollectiveFibers& operator=(const CollectiveFibers&) = delete;

  Time now() const override { return fabric_.now(); }
  protocol::HostEndpoint& endpoint() override { return fabric_.endpoint(); }
  void transmit(protocol::Outbox& out) override { fabric_.transmit(out); }
  /// On a fiber: suspends it until ready() holds or `deadline` passes. In the
  /// main context: blocks in the fabric, resuming fibers as their waits end.
  bool block_until(const std::function<bool()>& ready, Time deadline) override;
  /// Host reductions share one CPU: a reduction starts when the previous one
  /// (of any fiber) has ended, and suspends only its own fiber.
  void account_compute(std::size_t bytes) override;
  Time compute_time(std::size_t bytes) const override { return fabric_.compute_time(bytes); }
  std::string stall_reason() const override { return fabric_.stall_reason(); }
  trace::TraceSink* trace() const override { return fabric_.trace(); }

  /// Runs `body` on a new fiber until it first blocks or ends; returns the
  /// fiber's id (never 0). Must be called from the main context.
  std::uint64_t start(std::function<void()> body);
  /// True once the fiber's body has returned.
  bool finished(std::uint64_t id) const;
  /// Forgets a finished fiber and its fiber-local values.
  void release(std::uint64_t id);
  /// Takes in what the fabric has delivered and resumes every fiber whose
  /// wait is over, without blocking (in the simulator, without time passing).
  void poll();
  /// The running fiber, 0 in the main context.
  std::uint64_t current() const { return running_ ? running_->id : 0; }
  /// Fibers not yet released.
  std::size_t fibers() const { return tasks_.size(); }

  /// The running fiber's value of type T for `owner`, made on first use
  /// (a communicator keeps its per-collective state here).
  template <typename T>
  T& local(const void* owner) {
    for (auto& [key, value] : running_->locals)
      if (key == owner) return *static_cast<T*>(value.get());
    running_->locals.emplace_back(owner, std::make_shared<T>());
    return *static_cast<T*>(running_->locals.back().second.get());
  }
  /// `owner`'s value in a fiber (nullptr when it has none), for its issuer.
  template <typename T>
  T* local_of(std::uint64_t id, const void* owner) {
    auto it = tasks_.find(id);
    if (it == tasks_.end()) return nullptr;
    for (auto& [key, value] : it->second->locals)
      if (key == owner) return static_cast<T*>(value.get());
    return nullptr;
  }

 private:
  struct Task {
    std::uint64_t id = 0;
    FiberSwitch fiber;
    std::function<void()> body;
    const std::function<bool()>* ready = nullptr;  // while suspended in block_until
    Time deadline = kNever;
    bool stalled = false;  // resumed because the fabric can make no progress
    bool finished = false;
    std::vector<std::pair<const void*, std::shared_ptr<void>>> locals;
  };

  void resume(Task& task);
  // Resumes the suspended fibers whose wait is over (every one when
  // `stalled`); true when it resumed any.
  bool resume_due(bool stalled);
  bool due(const Task& task) const;

  protocol::HostDriver& fabric_;
  std::map<std::uint64_t, std::unique_ptr<Task>> tasks_;
  Task* running_ = nullptr;
  std::uint64_t next_id_ = 1;
  Time cpu_free_at_ = 0;
  static constexpr std::size_t kStackBytes = 256 * 1024;
};

}  // namespace inca::runtime
