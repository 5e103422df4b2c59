// Running a Python rank program on a rank: on the simulator through a baton
// to a worker thread (baton.hpp says why), on threads and processes of
// their own directly, and collecting what each rank returned or raised.
#pragma once

#include <pybind11/pybind11.h>

#include <functional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "inca/communicator.hpp"
#include "session.hpp"

namespace inca::python {

namespace py = pybind11;

/// What the rank programs of one run returned and raised. Created, read and
/// destroyed with the GIL; rank programs record into it with the GIL.
class RunResults {
 public:
  /// `slots` rank programs run; `rank_of_slot` names the rank in errors.
  RunResults(py::object rank_fn, std::size_t slots, CallDefaults defaults);

  /// The native rank main of a simulated rank: runs the rank program on a
  /// worker thread through a baton. Without the GIL.
  void run_on_worker(std::size_t slot, Communicator& comm);
  /// The native rank main of a rank that owns its thread (a live rank, a
  /// rank process): takes the GIL and runs the rank program here.
  void run_here(std::size_t slot, Communicator& comm);

  /// With the GIL: each slot's return value, or raises inca.RankError for
  /// the rank that failed first (with every failed rank's exception), or
  /// the inca.Error of the fabric's `status`.
  py::list finish(const Status& status);
  /// True when no rank program raised.
  bool all_returned() const { return errors_.empty(); }

  /// With the GIL: raises KeyboardInterrupt in every rank program running
  /// now (at its next bytecode; one blocked in a collective gets it when the
  /// collective returns).
  void interrupt();

 private:
  // With the GIL: runs the program, records, closes the session; false when it raised.
  bool run_rank(std::size_t slot, Communicator& comm, std::shared_ptr<Session> session);

  py::object rank_fn_;
  CallDefaults defaults_;
  std::vector<py::object> values_;
  std::vector<std::pair<int, py::object>> errors_;  // (rank, exception), first failure first
  std::vector<unsigned long> running_;              // per slot: its thread's ident, 0 when done
};

/// Runs `fabric_run` (which runs rank programs recording into `results`) on
/// a thread of its own while this one, the caller's, waits without the GIL
/// and takes Python's signals every 50 ms: a Ctrl-C (a notebook's interrupt)
/// interrupts the rank programs and is raised here once the run has ended.
/// With the GIL; returns the fabric's status.
Status run_interruptibly(RunResults& results, const std::function<Status()>& fabric_run);

/// Thrown on a rank's native side after its Python program raised, so that
/// the fabric counts the rank as failed; carries no Python object.
struct RankProgramFailed : std::runtime_error {
  explicit RankProgramFailed(int rank);
};

}  // namespace inca::python
