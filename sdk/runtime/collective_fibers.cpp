#include "runtime/collective_fibers.hpp"

#include <algorithm>

namespace inca::runtime {

CollectiveFibers::~CollectiveFibers() {
  // A fiber left suspended would be unwound by Boost.Context behind the
  // sanitizers' back, with its references into the caller gone: finish them.
  const std::function<bool()> all_finished = [this] {
    return std::all_of(tasks_.begin(), tasks_.end(),
                       [](const auto& entry) { return entry.second->finished; });
  };
  if (!running_) block_until(all_finished, kNever);
}

std::shared_ptr<CollectiveFibers> CollectiveFibers::of(protocol::HostDriver& driver) {
  if (auto* fibers = dynamic_cast<CollectiveFibers*>(&driver)) return fibers->shared_from_this();
  return std::make_shared<CollectiveFibers>(driver);
}

std::uint64_t CollectiveFibers::start(std::function<void()> body) {
  auto task = std::make_unique<Task>();
  Task& t = *task;
  t.id = next_id_++;
  t.body = std::move(body);
  t.fiber.create(kStackBytes, [&t](boost::context::fiber&& main) {
    t.fiber.enter_fiber(std::move(main));
    t.body();
    t.finished = true;
    return t.fiber.finish_fiber();
  });
  tasks_.emplace(t.id, std::move(task));
  resume(t);
  return t.id;
}

bool CollectiveFibers::finished(std::uint64_t id) const {
  auto it = tasks_.find(id);
  return it == tasks_.end() || it->second->finished;
}

void CollectiveFibers::release(std::uint64_t id) {
  auto it = tasks_.find(id);
  if (it != tasks_.end() && it->second->finished) tasks_.erase(it);
}

void CollectiveFibers::poll() {
  if (!running_) wait_until(now());
}

void CollectiveFibers::resume(Task& task) {
  running_ = &task;
  task.fiber.resume();
  running_ = nullptr;
}

bool CollectiveFibers::due(const Task& task) const {
  return !task.finished && task.ready && ((*task.ready)() || task.deadline <= now());
}

bool CollectiveFibers::resume_due(bool stalled) {
  bool any = false;
  for (bool again = true; again;) {
    again = false;
    // A fiber never starts or releases fibers, so the map stays as it is.
    for (auto& [id, task] : tasks_) {
      if (task->finished || !task->ready || !(stalled || due(*task))) continue;
      task->stalled = stalled;
      resume(*task);
      any = again = true;
    }
    // A resumed fiber may have made another's wait end; a stall is told once.
    again = again && !stalled;
  }
  return any;
}

bool CollectiveFibers::block_until(const std::function<bool()>& ready, Time deadline) {
  if (running_) {
    if (ready()) return true;
    if (deadline <= now()) return false;
    Task& task = *running_;
    task.ready = &ready;
    task.deadline = deadline;
    task.stalled = false;
    task.fiber.yield();
    task.ready = nullptr;
    return ready();
  }
  // Real fabrics take in what has arrived even when the deadline has passed
  // (test() relies on that); the simulator returns at once.
  bool polled = false;
  for (;;) {
    if (ready()) return true;
    if (resume_due(false)) continue;
    if (polled && deadline <= now()) return false;
    Time wake = deadline;
    bool suspended = false;
    for (const auto& [id, task] : tasks_)
      if (!task->finished) {
        suspended = true;
        wake = std::min(wake, task->deadline);
      }
    if (!suspended) return fabric_.block_until(ready, deadline);
    const std::function<bool()> any_ready = [&] {
      if (ready()) return true;
      for (const auto& [id, task] : tasks_)
        if (!task->finished && (*task->ready)()) return true;
      return false;
    };
    const bool woke = fabric_.block_until(any_ready, wake);
    polled = true;
    if (woke || now() >= wake) continue;
    // The fabric can make no more progress: every waiting fiber hears so
    // (and fails its wait); if none was waiting, neither can this wait end.
    if (!resume_due(true)) return ready();
  }
}

void CollectiveFibers::account_compute(std::size_t bytes) {
  const Time t = fabric_.compute_time(bytes);
  if (t <= 0) return;
  cpu_free_at_ = std::max(now(), cpu_free_at_) + t;
  wait_until(cpu_free_at_);
}

}  // namespace inca::runtime
