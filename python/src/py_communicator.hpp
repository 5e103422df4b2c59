// inca.Communicator: a rank's communicator as Python sees it. Every call
// checks its buffers, then runs the C++ call where the rank's C++ code runs
// (Session::native) with the GIL released, and raises the inca.Error of a
// failed Status. Non-blocking calls return an inca.Request that holds the
// buffers until it completes.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "buffers.hpp"
#include "inca/communicator.hpp"
#include "session.hpp"

namespace inca::python {

namespace py = pybind11;

/// Buffers pinned for one operation, and what the call returns.
struct Operands {
  const void* send = nullptr;
  void* recv = nullptr;
  std::size_t count = 0;
  Dtype dtype = Dtype::f32;
  py::object result = py::none();
  std::vector<std::unique_ptr<PinnedBuffer>> pins;
};

class PyCommunicator {
 public:
  /// `comm` is the rank's communicator (not owned) or, for a
  /// sub-communicator, `owned`'s.
  PyCommunicator(std::shared_ptr<Session> session, Communicator* comm,
                 std::unique_ptr<Communicator> owned, CallDefaults defaults);
  ~PyCommunicator();
  PyCommunicator(const PyCommunicator&) = delete;
  PyCommunicator& operator=(const PyCommunicator&) = delete;

  /// The C++ communicator after the usability check (raises otherwise).
  Communicator& comm(const char* what);
  /// The C++ communicator for reading state (rank, size, last_algorithm):
  /// any thread, while the session is open.
  const Communicator& peek(const char* what) const;
  Session& session() { return *session_; }
  const std::shared_ptr<Session>& session_ptr() const { return session_; }
  const CallDefaults& defaults() const { return defaults_; }

  /// Runs `call` natively and raises the status it sets.
  void run(const char* what, const std::function<Status(Communicator&)>& call);
  /// Starts a non-blocking operation natively; its Request keeps `operands`
  /// pinned until it completes.
  py::object start(py::object self, const char* what,
                   const std::function<Result<Request>(Communicator&)>& call, Operands operands);
  /// Completes `request` natively (wait), releasing its buffers.
  Status complete(Request request);
  /// Progresses outstanding operations; true when `request` is complete.
  bool poll(Request request);

  /// Session::close, native part: completes every outstanding request and
  /// destroys the sub-communicator. Python part: drops the buffers.
  void finish_native();
  void finish_python();

 private:
  std::shared_ptr<Session> session_;
  Communicator* comm_;
  std::unique_ptr<Communicator> owned_;
  CallDefaults defaults_;
  std::map<std::uint64_t, std::vector<std::unique_ptr<PinnedBuffer>>> pending_;
  bool orphan_ = false;  // an heir the session deletes when it closes
};

/// inca.Request: a pending non-blocking operation of one communicator.
class PyRequest {
 public:
  PyRequest(py::object comm, Request request, py::object result)
      : comm_(std::move(comm)), request_(request), result_(std::move(result)) {}
  /// Completes the operation and returns its result (the receive buffer),
  /// raising its error; again the same when already complete.
  py::object wait();
  /// True once complete (then wait() returns at once).
  bool test();
  bool done() const { return done_; }
  PyCommunicator& communicator();

 private:
  py::object comm_;
  Request request_;
  py::object result_;
  bool done_ = false;
  Status status_;
};

/// Registers inca.Communicator and inca.Request on the module.
void bind_communicator(py::module_& m);
/// The collectives' methods (py_collectives.cpp).
void bind_collectives(py::class_<PyCommunicator>& cls);

}  // namespace inca::python
