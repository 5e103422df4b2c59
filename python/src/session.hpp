// The Python side of one rank program, or of one call of a Python
// algorithm: the thread it runs on, how its communicators' calls reach the
// rank's C++ side, and what must be finished before it ends (outstanding
// requests whose buffers Python owns, sub-communicators).
#pragma once

#include <pybind11/pybind11.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "baton.hpp"

namespace inca::python {

namespace py = pybind11;

class PyCommunicator;

/// Defaults of the collective calls of a world's communicators
/// (World(algorithm=..., reproducible=...), INCA_ALGORITHM, INCA_REPRODUCIBLE).
struct CallDefaults {
  std::string algorithm = "auto";
  bool reproducible = false;
};

class Session {
 public:
  /// Native calls run on the calling thread with the GIL released: a live
  /// rank's thread, a rank process.
  static std::shared_ptr<Session> direct();
  /// Native calls run on the native side of `baton`: a simulated rank's fiber.
  static std::shared_ptr<Session> over(std::shared_ptr<Baton> baton);

  /// Runs `call` where the rank's C++ code runs, with the GIL released. Call
  /// with the GIL; `call` must not touch Python.
  void native(const std::function<void()>& call);
  /// Raises inca.InvalidArgument unless called on the session's thread
  /// while it is open; `what` names the call.
  void check_usable(const char* what) const;
  bool usable() const;

  void add(PyCommunicator* comm);
  void remove(PyCommunicator* comm);
  /// Ends the session (GIL held, on its thread): completes the outstanding
  /// requests of its communicators, frees their sub-communicators, and makes
  /// them unusable.
  void close();

 private:
  Session(std::shared_ptr<Baton> baton);

  std::shared_ptr<Baton> baton_;
  std::thread::id owner_;
  bool open_ = true;
  std::vector<PyCommunicator*> comms_;  // in creation order
};

}  // namespace inca::python
