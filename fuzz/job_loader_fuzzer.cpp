// Arbitrary text into the job file loader, and whatever loads into the
// validator's checks on a small leaf-spine fabric: nothing may crash, a load
// succeeds exactly when no error was found, and every finding is located in
// the file it came from.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "inca/job_description.hpp"
#include "jobs/job_checks.hpp"

namespace {

const inca::FabricDescription& fabric() {
  static const inca::FabricDescription f = *inca::FabricDescription::parse(
                                                "inca_fabric: 1\n"
                                                "switch_models: {sw: {slots: 64, llt_trees: 3, "
                                                "sat_trees: 1, streaming_lock: per_switch}}\n"
                                                "topology: {leaf_spine: {hosts: 8, hosts_per_leaf: "
                                                "4, spines: 2, leaf: sw, spine: sw}}\n",
                                                "fabric.yaml")
                                                .description;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const inca::JobLoad load = inca::JobSet::parse(text, "fuzz.yaml");
  bool error = false;
  for (const inca::Diagnostic& d : load.diagnostics) {
    FUZZ_CHECK(d.where.file == "fuzz.yaml");
    FUZZ_CHECK(d.where.line >= 0 && d.where.column >= 0);
    FUZZ_CHECK(!d.message.empty());
    error = error || d.severity == inca::Severity::error;
  }
  FUZZ_CHECK(load.ok() == !error);
  if (!load.ok()) return 0;
  const inca::jobs::JobCheck check = inca::jobs::check_jobs(fabric(), *load.jobs);
  FUZZ_CHECK(check.summaries.size() == load.jobs->jobs.size());
  for (const inca::jobs::JobSummary& s : check.summaries) {
    FUZZ_CHECK(s.granted == s.refusal.empty());
    for (std::uint32_t h : s.hosts) FUZZ_CHECK(h < fabric().hosts.size());
  }
  return 0;
}
