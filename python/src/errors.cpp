#include "errors.hpp"

#include <fmt/format.h>

namespace inca::python {
namespace {

// Leaked on purpose: the classes are needed until the interpreter is gone,
// and a static py::object would be released after it is.
py::handle g_by_code;
py::handle g_error;
py::handle g_internal;
py::handle g_rank_error;

}  // namespace

void init_errors() {
  py::module_ errors = py::module_::import("inca._errors");
  g_by_code = py::object(errors.attr("BY_CODE")).release();
  g_error = py::object(errors.attr("Error")).release();
  g_internal = py::object(errors.attr("Internal")).release();
  g_rank_error = py::object(errors.attr("RankError")).release();
}

void throw_status(const Status& status) {
  const std::string code(to_string(status.code()));
  py::dict by_code = py::reinterpret_borrow<py::dict>(g_by_code);
  py::object cls = by_code.contains(code) ? py::object(by_code[code.c_str()])
                                          : py::reinterpret_borrow<py::object>(g_internal);
  py::object error = cls(status.message(), code);
  PyErr_SetObject(cls.ptr(), error.ptr());
  throw py::error_already_set();
}

void throw_invalid(const std::string& message) {
  throw_status(make_error(StatusCode::invalid_argument, message));
}

void throw_rank_error(const std::vector<std::pair<int, py::object>>& errors) {
  const auto& [rank, first] = errors.front();
  std::string message = fmt::format("rank {} raised {}: {}", rank,
                                    std::string(py::str(first.get_type().attr("__name__"))),
                                    std::string(py::str(first)));
  if (errors.size() > 1) {
    constexpr std::size_t kNamed = 8;
    std::string others;
    for (std::size_t i = 1; i < errors.size() && i <= kNamed; ++i)
      others += fmt::format("{}{}", i > 1 ? ", " : "", errors[i].first);
    if (errors.size() > kNamed + 1) others += ", ...";
    message += fmt::format(" (then {} more failed: rank{} {}; see .errors)", errors.size() - 1,
                           errors.size() > 2 ? "s" : "", others);
  }
  py::dict by_rank;
  for (const auto& [r, e] : errors) by_rank[py::int_(r)] = e;
  py::object error = py::reinterpret_borrow<py::object>(g_rank_error)(message, rank, by_rank);
  error.attr("__cause__") = first;
  PyErr_SetObject(g_rank_error.ptr(), error.ptr());
  throw py::error_already_set();
}

Status status_of(const py::error_already_set& error) {
  py::object value = error.value();
  if (PyObject_IsInstance(value.ptr(), g_error.ptr()) == 1) {
    const std::string code = py::str(value.attr("code"));
    const std::string message = py::str(value.attr("message"));
    for (int c = static_cast<int>(StatusCode::invalid_argument);
         c <= static_cast<int>(StatusCode::internal); ++c)
      if (to_string(static_cast<StatusCode>(c)) == code)
        return make_error(static_cast<StatusCode>(c), message);
    return make_error(StatusCode::internal, message);
  }
  const std::string type = py::str(error.type().attr("__name__"));
  return make_error(StatusCode::internal, fmt::format("{}: {}", type, std::string(py::str(value))));
}

}  // namespace inca::python
