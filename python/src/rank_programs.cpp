#include "rank_programs.hpp"

#include <fmt/format.h>

#include "errors.hpp"
#include "py_communicator.hpp"

namespace inca::python {

RankProgramFailed::RankProgramFailed(int rank)
    : std::runtime_error(fmt::format("the Python program of rank {} raised", rank)) {}

RunResults::RunResults(py::object rank_fn, std::size_t slots, CallDefaults defaults)
    : rank_fn_(std::move(rank_fn)), defaults_(std::move(defaults)), values_(slots) {}

bool RunResults::run_rank(std::size_t slot, Communicator& comm, std::shared_ptr<Session> session) {
  bool ok = true;
  const auto record = [&](const py::object& error) {
    errors_.emplace_back(comm.rank(), error);
    ok = false;
  };
  try {
    py::object py_comm = py::cast(new PyCommunicator(session, &comm, nullptr, defaults_),
                                  py::return_value_policy::take_ownership);
    try {
      values_[slot] = rank_fn_(py_comm);
    } catch (py::error_already_set& e) {
      record(e.value());
    }
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

py::list RunResults::finish(const Status& status) {
  if (!errors_.empty()) throw_rank_error(errors_);
  check(status);
  py::list out;
  for (py::object& v : values_) out.append(v ? v : py::none());
  return out;
}

}  // namespace inca::python
