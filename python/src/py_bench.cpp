// inca.bench's native half: `inca bench` itself (cli/bench_command.hpp), run
// in this process so that algorithms registered here are benchmarked, and
// the plugin loader.
#include <pybind11/stl.h>

#include <sstream>

#include "bench_command.hpp"
#include "errors.hpp"
#include "inca/plugin.hpp"

namespace inca::python {

void bind_bench(py::module_& m) {
  using namespace pybind11::literals;
  m.def(
      "_bench_command",
      [](const std::vector<std::string>& args) {
        std::ostringstream out, err;
        int status = 0;
        {
          py::gil_scoped_release release;
          status = cli::run_bench_command(args, out, err);
        }
        return py::make_tuple(status, out.str(), err.str());
      },
      "Runs `inca bench ARGS` here; returns (exit status, report, errors).", "args"_a);
  m.def(
      "load_plugin",
      [](const std::string& path) {
        Status status;
        {
          py::gil_scoped_release release;
          status = load_plugin(path);
        }
        check(status);
      },
      "dlopen()s a C++ algorithm plugin (inca/plugin.hpp: a shared library exporting "
      "inca_register_algorithms()) and registers its algorithms, as `inca bench --plugin`. "
      "Loading it again does nothing. Raises inca.IoError when it cannot be loaded, "
      "inca.InvalidArgument when its entry is missing or fails.",
      "path"_a);
}

}  // namespace inca::python
