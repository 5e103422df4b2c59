#include "rank_programs.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "errors.hpp"
#include "py_communicator.hpp"

namespace inca::python {

RankProgramFailed::RankProgramFailed(int rank)
    : std::runtime_error(fmt::format("the Python program of rank {} raised", rank)) {}

RunResults::RunResults(py::object rank_fn, std::size_t slots, CallDefaults defaults)
    : rank_fn_(std::move(rank_fn)),
      defaults_(std::move(defaults)),
      values_(slots),
      running_(slots, 0) {}

bool RunResults::run_rank(std::size_t slot, Communicator& comm, std::shared_ptr<Session> session) {
  bool ok = true;
  const auto record = [&](const py::object& error) {
    errors_.emplace_back(comm.rank(), error);
    ok = false;
  };
  try {
    py::object py_comm = py::cast(new PyCommunicator(session, &comm, nullptr, defaults_),
                                  py::return_value_policy::take_ownership);
    running_[slot] = PyThread_get_thread_ident();
    try {
      values_[slot] = rank_fn_(py_comm);
    } catch (py::error_already_set& e) {
      record(e.value());
    }
    running_[slot] = 0;
    // An interrupt that came too late for the program must not reach the
    // next job of this (pooled) thread.
    PyThreadState_SetAsyncExc(PyThread_get_thread_ident(), nullptr);
    // Outstanding requests complete and sub-communicators go, even after an
    // exception: their buffers are Python's.
    session->close();
  } catch (py::error_already_set& e) {
    record(e.value());
  } catch (const std::exception& e) {
    record(py::reinterpret_steal<py::object>(
        PyObject_CallFunction(PyExc_RuntimeError, "s", e.what())));
  }
  return ok;
}

void RunResults::run_on_worker(std::size_t slot, Communicator& comm) {
  auto baton = std::make_shared<Baton>();
  bool ok = true;
  baton->run_python([&] { ok = run_rank(slot, comm, Session::over(baton)); });
  if (!ok) throw RankProgramFailed(comm.rank());
}

void RunResults::run_here(std::size_t slot, Communicator& comm) {
  bool ok = true;
  {
    py::gil_scoped_acquire gil;
    ok = run_rank(slot, comm, Session::direct());
  }
  if (!ok) throw RankProgramFailed(comm.rank());
}

void RunResults::interrupt() {
  for (unsigned long thread : running_)
    if (thread != 0) PyThreadState_SetAsyncExc(thread, PyExc_KeyboardInterrupt);
}

Status run_interruptibly(RunResults& results, const std::function<Status()>& fabric_run) {
  Status status;
  std::mutex mutex;
  std::condition_variable ended;
  bool done = false;
  std::optional<py::error_already_set> interrupted;
  {
    py::gil_scoped_release release;
    std::thread fabric([&] {
      Status s = fabric_run();
      std::lock_guard lock(mutex);
      status = std::move(s);
      done = true;
      ended.notify_one();
    });
    std::unique_lock lock(mutex);
    while (!ended.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) {
      lock.unlock();
      {
        py::gil_scoped_acquire gil;
        // Python runs signal handlers only on the main thread; elsewhere this is a no-op.
        if (!interrupted && PyErr_CheckSignals() != 0) {
          interrupted.emplace();
          results.interrupt();
        }
      }
      lock.lock();
    }
    lock.unlock();
    fabric.join();
  }
  if (interrupted) throw std::move(*interrupted);
  return status;
}

py::list RunResults::finish(const Status& status) {
  if (!errors_.empty()) throw_rank_error(errors_);
  check(status);
  py::list out;
  for (py::object& v : values_) out.append(v ? v : py::none());
  return out;
}

}  // namespace inca::python
