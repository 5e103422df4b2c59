// inca.register_allreduce: all-reduce algorithms written in Python, in the
// same registry as the built-ins, so that `algorithm=` and inca.bench run
// them by name. The C++ side of such an algorithm runs where the
// communicator's collective runs (a rank's fiber, a collective's fiber, a
// live rank's thread); it hands the Python function to a worker thread
// through a baton (baton.hpp), never running Python on a fiber.
#include <pybind11/stl.h>

#include <map>

#include <fmt/format.h>

#include "buffers.hpp"
#include "errors.hpp"
#include "inca/algorithm.hpp"
#include "py_communicator.hpp"

namespace inca::python {
namespace {

// What one call of a Python algorithm sees (inca.AllreduceCall).
struct AllreduceCall {
  py::object send;
  py::object recv;
  std::size_t count = 0;
  std::string dtype;
  std::string op;
  bool reproducible = false;
};

struct PythonAlgorithm {
  py::object fn;
  bool uses_switches = false;
};

// By name; leaked, as the registry that points here lives until exit.
std::map<std::string, PythonAlgorithm>& python_algorithms() {
  static auto* algorithms = new std::map<std::string, PythonAlgorithm>();
  return *algorithms;
}

// "file:line in function" of the innermost frame of a Python exception.
std::string where(const py::error_already_set& error) {
  if (!error.trace()) return "";
  try {
    py::object frames = py::module_::import("traceback").attr("extract_tb")(error.trace());
    if (py::len(frames) == 0) return "";
    py::object last = frames[py::int_(-1)];
    return fmt::format(" (at {}:{} in {})", std::string(py::str(last.attr("filename"))),
                       last.attr("lineno").cast<int>(), std::string(py::str(last.attr("name"))));
  } catch (py::error_already_set&) {
    return "";
  }
}

// On a worker, with the GIL: one call of the algorithm.
Status call_on_worker(const std::string& name, Communicator& comm, const AllreduceArgs& args,
                      std::shared_ptr<Session> session) {
  Status status;
  try {
    const PythonAlgorithm& algorithm = python_algorithms().at(name);
    py::object py_comm = py::cast(new PyCommunicator(session, &comm, nullptr, {}),
                                  py::return_value_policy::take_ownership);
    AllreduceCall call{
        args.send ? wrap_memory(args.send, args.count, args.dtype, false) : py::none(),
        args.recv ? wrap_memory(args.recv, args.count, args.dtype, true) : py::none(),
        args.count,
        std::string(to_string(args.dtype)),
        std::string(to_string(args.op)),
        args.reproducible};
    py::object send = call.send, recv = call.recv;
    py::object call_obj = py::cast(std::move(call));
    try {
      algorithm.fn(py_comm, call_obj);
    } catch (py::error_already_set& e) {
      status = status_of(e);
      status = Status(status.code(),
                      fmt::format("Python algorithm '{}': {}{}", name, status.message(), where(e)));
    }
    session->close();
    // The arrays lie over inca's buffers, which are not the algorithm's
    // after it returns: one it kept would dangle.
    const bool kept_call = call_obj.ref_count() > 1;
    call_obj = py::none();
    if (status.ok() && (kept_call || send.ref_count() > 1 || recv.ref_count() > 1) &&
        !(send.is_none() && recv.is_none()))
      status = make_error(StatusCode::invalid_argument,
                          fmt::format("Python algorithm '{}' kept a reference to its call or its "
                                      "buffers, which are inca's only during the call",
                                      name));
  } catch (py::error_already_set& e) {
    status = status_of(e);
  } catch (const std::exception& e) {
    status = make_error(StatusCode::internal, e.what());
  }
  return status;
}

Status run_python_algorithm(const std::string& name, Communicator& comm,
                            const AllreduceArgs& args) {
  if (PyGILState_Check())
    return make_error(StatusCode::internal,
                      fmt::format("Python algorithm '{}' was called by a thread that holds the "
                                  "GIL; inca releases it around every collective",
                                  name));
  Status status;
  auto baton = std::make_shared<Baton>();
  baton->run_python([&] { status = call_on_worker(name, comm, args, Session::over(baton)); });
  return status;
}

void register_python(const std::string& name, py::object fn, const std::string& description,
                     bool uses_switches) {
  if (!PyCallable_Check(fn.ptr()))
    throw_invalid(fmt::format("register_allreduce('{}'): fn is not callable", name));
  auto& algorithms = python_algorithms();
  if (auto it = algorithms.find(name); it != algorithms.end()) {
    // Re-running a notebook cell replaces the function.
    if (it->second.uses_switches != uses_switches)
      throw_invalid(fmt::format(
          "register_allreduce('{}'): registered before with uses_switches={}; only its function "
          "can be replaced",
          name, it->second.uses_switches));
    it->second.fn = std::move(fn);
    return;
  }
  check(register_allreduce({name, description.empty() ? "Python: " + name : description,
                            uses_switches, [name](Communicator& c, const AllreduceArgs& a) {
                              return run_python_algorithm(name, c, a);
                            }}));
  algorithms[name] = {std::move(fn), uses_switches};
}

}  // namespace

void bind_algorithms(py::module_& m) {
  using namespace pybind11::literals;
  py::class_<AllreduceCall>(m, "AllreduceCall",
                            "The arguments of one all-reduce, already validated by the "
                            "communicator, as a registered algorithm receives them. send and "
                            "recv are numpy arrays over inca's buffers (bf16: uint16 views), "
                            "valid only during the call; None in payload-free mode.")
      .def_readonly("send", &AllreduceCall::send, "The input (read-only; may be recv itself).")
      .def_readonly("recv", &AllreduceCall::recv, "Where the result goes.")
      .def_readonly("count", &AllreduceCall::count, "Elements.")
      .def_readonly("dtype", &AllreduceCall::dtype, "The dtype's name ('f32', 'bf16', ...).")
      .def_readonly("op", &AllreduceCall::op, "The op's name ('sum', ...).")
      .def_readonly("reproducible", &AllreduceCall::reproducible,
                    "Reduce in a fixed order (bit-identical results).");
  m.def("register_allreduce", &register_python,
        "Adds an all-reduce algorithm written in Python: fn(comm, call) writes the reduction of "
        "every rank's call.send into call.recv (inca.AllreduceCall), from comm.send / recv / "
        "isend / irecv, comm.reduce_local and the switch primitive comm.innet_allreduce "
        "(then uses_switches=True: its runs take the communicator's tree in turn). It runs "
        "wherever the name is asked for: allreduce(algorithm=name), World(algorithm=name), "
        "inca.bench(algos=[name]). It returns None on success and raises to fail (an "
        "inca.Error keeps its code). Registering a name again replaces the function; a "
        "built-in's name raises inca.InvalidArgument.",
        "name"_a, "fn"_a, "description"_a = "", "uses_switches"_a = false);
  m.def(
      "algorithms", [] { return allreduce_names(); },
      "Names of every registered all-reduce algorithm, built-ins first.");
}

}  // namespace inca::python
