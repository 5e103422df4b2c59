// Python code never runs on a simulator fiber. The simulator runs each rank
// as a Boost.Context fiber on one OS thread and switches C stacks between
// them; CPython keeps per-thread state (the current frame chain, the
// recursion depth, the exception being handled) that describes the one C
// stack it believes it is on, so Python frames left on a switched-out stack
// would be resumed under another rank's state. Instead each Python rank
// program (and each call of a Python algorithm) runs on a worker OS thread
// of its own, with its own thread state, and hands a baton back and forth
// with the native side that stands for it (the rank's fiber): exactly one of
// the two runs at a time, so the simulator stays deterministic and single-
// threaded, and fibers only ever switch stacks under C++ frames.
// docs/python.md explains the choice.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace inca::python {

/// Worker threads for Python code started from native contexts. Each keeps
/// its Python thread state for its whole life, so a job finds threading
/// locals and the recursion limit as a thread does.
class Workers {
 public:
  /// The process's pool, created on first use.
  static Workers& instance();

  /// Runs `job` on an idle worker (a new one when none is idle) with the
  /// GIL held, then `done` on that worker without the GIL. Call without the
  /// GIL. `job` must not throw.
  void start(std::function<void()> job, std::function<void()> done);
  /// Stops and joins the idle workers (interpreter exit). Call with the GIL;
  /// it is released while the workers finish.
  void shutdown();
  /// Threads started so far (for tests of the pool's reuse).
  std::size_t threads() const;

 private:
  struct Worker;
  void loop(Worker& worker);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Worker>> all_;
  std::vector<Worker*> idle_;
};

/// The handoff between one native context and the Python job it started.
/// Made with std::make_shared: the worker keeps it alive until it has let go.
class Baton : public std::enable_shared_from_this<Baton> {
 public:
  /// Native side, without the GIL: runs `job` on a worker (with the GIL) and
  /// runs here every call_native() it makes, until it returns.
  void run_python(const std::function<void()>& job);
  /// Python side, on the worker, GIL released: runs `call` on the native
  /// side and returns once it has.
  void call_native(const std::function<void()>& call);

 private:
  enum Turn : std::uint32_t { kNative, kPython, kDone };
  void pass(Turn to);

  std::atomic<std::uint32_t> turn_{kNative};
  const std::function<void()>* call_ = nullptr;
};

}  // namespace inca::python
