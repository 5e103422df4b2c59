// inca's Status as Python exceptions: inca.Error and one subclass per
// StatusCode (inca/_errors.py defines them, so that they read like Python).
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "inca/status.hpp"

namespace inca::python {

namespace py = pybind11;

/// Looks the exception classes up in inca._errors; called once at import.
void init_errors();

/// Raises the inca.Error subclass of `status`'s code, carrying its message.
/// Needs the GIL.
[[noreturn]] void throw_status(const Status& status);
/// throw_status unless `status` is ok.
inline void check(const Status& status) {
  if (!status.ok()) throw_status(status);
}
/// Raises inca.InvalidArgument with `message`.
[[noreturn]] void throw_invalid(const std::string& message);

/// Raises inca.RankError for `errors` ((rank, exception) in the order the
/// ranks failed): it names the first, whose exception becomes its __cause__.
[[noreturn]] void throw_rank_error(const std::vector<std::pair<int, py::object>>& errors);

/// The Status a Python exception stands for: its own for an inca.Error,
/// else internal with "TypeName: message". Needs the GIL.
Status status_of(const py::error_already_set& error);

}  // namespace inca::python
