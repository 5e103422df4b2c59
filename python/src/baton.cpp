#include "baton.hpp"

#include <Python.h>

namespace inca::python {

struct Workers::Worker {
  std::thread thread;
  std::mutex mutex;
  std::condition_variable wake;
  std::function<void()> job;
  std::function<void()> done;
  bool stop = false;
};

Workers& Workers::instance() {
  // Leaked: worker threads may outlive static destruction.
  static Workers* workers = new Workers();
  return *workers;
}

void Workers::start(std::function<void()> job, std::function<void()> done) {
  Worker* worker = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      worker = idle_.back();
      idle_.pop_back();
    } else {
      all_.push_back(std::make_unique<Worker>());
      worker = all_.back().get();
      worker->thread = std::thread([this, worker] { loop(*worker); });
    }
  }
  std::lock_guard lock(worker->mutex);
  worker->job = std::move(job);
  worker->done = std::move(done);
  worker->wake.notify_one();
}

void Workers::loop(Worker& worker) {
  // The thread's own Python thread state, kept across jobs.
  const PyGILState_STATE gil = PyGILState_Ensure();
  PyThreadState* state = PyEval_SaveThread();
  while (true) {
    std::function<void()> job, done;
    {
      std::unique_lock lock(worker.mutex);
      worker.wake.wait(lock, [&] { return worker.job || worker.stop; });
      if (!worker.job) break;
      job = std::move(worker.job);
      done = std::move(worker.done);
      worker.job = nullptr;
      worker.done = nullptr;
    }
    PyEval_RestoreThread(state);
    job();
    job = nullptr;  // its captures may hold Python objects: drop them with the GIL
    PyEval_SaveThread();
    {
      // Idle before `done` hands the baton back, so the next job started by
      // the same native side finds this thread rather than a new one.
      std::lock_guard lock(mutex_);
      idle_.push_back(&worker);
    }
    done();
  }
  PyEval_RestoreThread(state);
  PyGILState_Release(gil);
}

void Workers::shutdown() {
  std::vector<Worker*> stopping;
  {
    std::lock_guard lock(mutex_);
    stopping = idle_;
    idle_.clear();
  }
  for (Worker* w : stopping) {
    std::lock_guard lock(w->mutex);
    w->stop = true;
    w->wake.notify_one();
  }
  PyThreadState* state = PyEval_SaveThread();
  for (Worker* w : stopping) w->thread.join();
  PyEval_RestoreThread(state);
  // A worker busy at exit (a run in another thread) is left to the process's end.
  std::lock_guard lock(mutex_);
  for (auto& w : all_)
    if (w->thread.joinable()) w->thread.detach();
}

std::size_t Workers::threads() const {
  std::lock_guard lock(mutex_);
  return all_.size();
}

void Baton::pass(Turn to) {
  turn_.store(to, std::memory_order_release);
  turn_.notify_one();
}

void Baton::run_python(const std::function<void()>& job) {
  turn_.store(kPython, std::memory_order_relaxed);
  // The worker holds the baton until it has passed it back for the last time.
  Workers::instance().start(job, [self = shared_from_this()] { self->pass(kDone); });
  while (true) {
    std::uint32_t turn;
    while ((turn = turn_.load(std::memory_order_acquire)) == kPython)
      turn_.wait(kPython, std::memory_order_acquire);
    if (turn == kDone) return;
    (*call_)();
    pass(kPython);
  }
}

void Baton::call_native(const std::function<void()>& call) {
  call_ = &call;
  pass(kNative);
  std::uint32_t turn;
  while ((turn = turn_.load(std::memory_order_acquire)) != kPython)
    turn_.wait(turn, std::memory_order_acquire);
}

}  // namespace inca::python
