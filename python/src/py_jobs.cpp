// inca.validate and inca.tree: what `inca validate` and `inca tree` report,
// in this process, with every finding as an object (inca.Finding).
#include <pybind11/stl.h>

#include <fmt/format.h>

#include "errors.hpp"
#include "job_inputs.hpp"
#include "jobs/job_tree.hpp"

namespace inca::python {
namespace {

/// The outcome of inca.validate.
struct Validation {
  bool valid = false;
  std::size_t errors = 0, warnings = 0;
  std::vector<Diagnostic> findings;
  py::list jobs;
};

cli::JobInputs load_inputs(const std::string& fabric, const std::string& jobs) {
  Result<cli::JobInputs> in = [&] {
    py::gil_scoped_release release;
    return cli::load_job_inputs(fabric, jobs);
  }();
  check(in.status());
  return std::move(*in);
}

Validation validate(const std::string& fabric, const std::optional<std::string>& jobs) {
  const cli::JobInputs in = load_inputs(fabric, jobs.value_or(""));
  Validation v{in.errors() == 0, in.errors(), in.warnings(), in.findings, py::list()};
  const py::object loads = py::module_::import("json").attr("loads");
  for (std::size_t j = 0; j < in.check.summaries.size(); ++j)
    v.jobs.append(
        loads(cli::to_json(*in.fabric.description, *in.jobs, in.check.summaries[j], j).dump()));
  return v;
}

std::string tree(const std::string& fabric, const std::string& jobs,
                 const std::optional<std::string>& job, const std::string& format, bool resources) {
  if (format != "text" && format != "dot")
    throw_invalid("tree: format is 'text' or 'dot', not '" + format + "'");
  const cli::JobInputs in = load_inputs(fabric, jobs);
  if (!in.fabric.ok() || !in.jobs) {
    std::vector<std::string> lines;
    for (const Diagnostic& d : in.findings) lines.push_back(d.to_string());
    throw_status(Status(StatusCode::config_error, fmt::format("{}", fmt::join(lines, "\n"))));
  }
  const FabricDescription& f = *in.fabric.description;
  const jobs::JobSummary* chosen = nullptr;
  for (const jobs::JobSummary& s : in.check.summaries)
    if ((job && s.job == *job) || (!job && in.check.summaries.size() == 1)) chosen = &s;
  if (!chosen && !(resources && !job))
    throw_invalid(job ? "tree: no job '" + *job + "' in " + jobs
                      : "tree: say which job (job=NAME): " + jobs + " has several");
  std::string out;
  if (chosen)
    out = format == "dot" ? jobs::job_tree_dot(f, *chosen, in.check.holdings)
                          : jobs::job_tree_text(f, *chosen, in.check.holdings);
  if (resources) out += jobs::holdings_table(f, in.check.holdings);
  return out;
}

}  // namespace

void bind_jobs(py::module_& m) {
  using namespace pybind11::literals;
  py::class_<Diagnostic>(m, "Finding",
                         "One finding of inca.validate: where (file, line, column), severity "
                         "('error' or 'warning'), message and hint, as `inca validate` prints it.")
      .def_property_readonly(
          "file", [](const Diagnostic& d) { return d.where.file; }, "The file it is in.")
      .def_property_readonly(
          "line", [](const Diagnostic& d) { return d.where.line; }, "Its line (1-based; 0: none).")
      .def_property_readonly(
          "column", [](const Diagnostic& d) { return d.where.column; }, "Its column (1-based).")
      .def_property_readonly(
          "severity", [](const Diagnostic& d) { return std::string(to_string(d.severity)); },
          "'error' or 'warning'.")
      .def_property_readonly(
          "message", [](const Diagnostic& d) { return d.message; }, "What is wrong.")
      .def_property_readonly(
          "hint", [](const Diagnostic& d) { return d.hint; }, "What to do about it ('' if none).")
      .def("__str__", &Diagnostic::to_string)
      .def("__repr__", [](const Diagnostic& d) {
        return fmt::format("<inca.Finding {}:{}:{} {}: {}>", d.where.file, d.where.line,
                           d.where.column, to_string(d.severity), d.message);
      });
  py::class_<Validation>(m, "Validation",
                         "What inca.validate found: valid, the error and warning counts, every "
                         "finding (inca.Finding) and a summary per job.")
      .def_readonly("valid", &Validation::valid, "True when there is no error (warnings allowed).")
      .def_readonly("errors", &Validation::errors, "How many findings are errors.")
      .def_readonly("warnings", &Validation::warnings, "How many findings are warnings.")
      .def_readonly("findings", &Validation::findings,
                    "Every finding of the fabric, the job file and the checks, in that order.")
      .def_readonly("jobs", &Validation::jobs,
                    "Per job, what it would get: dicts with job, tenant, priority, hosts, "
                    "granted, refusal, trees, llt_max_bytes, caps, streaming, fallback.");
  m.def("validate", &validate,
        "What `inca validate FABRIC [JOBS]` reports: `fabric` is a fabric file or preset name, "
        "`jobs` a job file (docs/job-files.md). Returns an inca.Validation; raises "
        "inca.InvalidArgument when a file or preset does not exist.",
        "fabric"_a, "jobs"_a = py::none());
  m.def("tree", &tree,
        "What `inca tree FABRIC JOBS --job JOB` draws: the job's trees as indented text or "
        "Graphviz DOT (format='text' or 'dot'); resources=True adds what every job holds on "
        "every switch (then job may be left out). Raises inca.ConfigError when the files do not "
        "load, inca.InvalidArgument for a missing file or an unknown job.",
        "fabric"_a, "jobs"_a, "job"_a = py::none(), "format"_a = "text", "resources"_a = false);
}

}  // namespace inca::python
