// The native half of the `inca` Python package (inca/__init__.py re-exports
// it): pybind11 bindings of the SDK for rank programs written in Python.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "baton.hpp"
#include "buffers.hpp"
#include "errors.hpp"
#include "py_communicator.hpp"

namespace inca::python {
void bind_worlds(py::module_& m);
void bind_algorithms(py::module_& m);
void bind_bench(py::module_& m);
void bind_jobs(py::module_& m);
}  // namespace inca::python

namespace {

std::vector<std::string> dtype_names() {
  std::vector<std::string> out;
  for (inca::Dtype d : inca::all_dtypes()) out.emplace_back(inca::to_string(d));
  return out;
}

std::vector<std::string> op_names() {
  std::vector<std::string> out;
  for (inca::ReduceOp op : inca::all_ops()) out.emplace_back(inca::to_string(op));
  return out;
}

pybind11::object loc_dtype(const std::string& name) {
  using inca::LocDtype;
  for (LocDtype d : {LocDtype::f32_i32, LocDtype::f64_i32, LocDtype::i32_i32, LocDtype::i64_i32})
    if (inca::to_string(d).starts_with(name + "_")) return inca::python::numpy_loc_dtype(d);
  inca::python::throw_invalid("loc_dtype: '" + name + "' is none of f32, f64, i32, i64");
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  namespace py = pybind11;
  using namespace inca::python;
  m.doc() = "inca's native bindings; use the inca package.";
  init_errors();
  bind_communicator(m);
  bind_worlds(m);
  bind_algorithms(m);
  bind_bench(m);
  bind_jobs(m);
  m.def("dtypes", &dtype_names,
        "Every inca dtype, in wire-code order: i8 u8 i16 u16 i32 u32 i64 u64 f16 bf16 f32 f64.");
  m.def(
      "dtype_size",
      [](const std::string& name) { return inca::dtype_size(parse_dtype_name(name)); },
      "Bytes of one element of the dtype called `name` ('bf16': 2).", py::arg("name"));
  m.def("ops", &op_names, "Every reduction op, in wire-code order.");
  m.def("loc_dtype", &loc_dtype,
        "The numpy structured dtype of MINLOC/MAXLOC (value, index) pairs: 'f32', 'f64', "
        "'i32' or 'i64' values with int32 indices, laid out as MPI's MPI_FLOAT_INT and friends.",
        py::arg("value"));
  m.def(
      "_raise_status",
      [](const std::string& code, const std::string& message) {
        for (int c = 1; c <= static_cast<int>(inca::StatusCode::internal); ++c)
          if (inca::to_string(static_cast<inca::StatusCode>(c)) == code)
            throw_status(inca::Status(static_cast<inca::StatusCode>(c), message));
        throw_invalid("no status code '" + code + "'");
      },
      "Raises the exception of a status code (how every failed call raises).", py::arg("code"),
      py::arg("message"));
  m.def(
      "_shutdown", [] { Workers::instance().shutdown(); },
      "Stops the idle worker threads (registered with atexit).");
  m.def(
      "_worker_threads", [] { return Workers::instance().threads(); },
      "Worker threads started so far.");
}
