// What the aggregation manager lets each job of a run use, decided in one
// place: the trees SwitchResources grants it (as `inca validate` computes
// them), and, step by step, whether a collective may use the switches: on a
// low-latency tree up to slots x payload, above that only while it holds its
// streaming lock. A step that may not runs on the hosts, and the decision
// says why. The communicator's own admission replaces this once it consults
// SwitchResources itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inca/job_description.hpp"
#include "manager/switch_resources.hpp"

namespace inca::cli {

/// How one workload step runs.
struct StepDecision {
  std::string algorithm;   ///< what the step asks the communicator for ("auto" or a host algorithm)
  std::string why;         ///< the reason, in words
  bool streaming = false;  ///< it holds the job's streaming locks while it runs
};

/// A streaming lock held by a job's step, in virtual time.
struct LockInterval {
  std::string job;
  std::size_t step = 0;
  Time from = 0, to = 0;
};

class JobAdmission {
 public:
  /// Allocates, in file order, the jobs `active` marks (all when empty) on
  /// their placed `hosts`, as `inca validate` does.
  JobAdmission(const FabricDescription& fabric, const JobSet& jobs,
               const std::vector<std::vector<std::uint32_t>>& hosts,
               const std::vector<bool>& active = {});

  /// The job's grant, or nullopt with refusal() saying why.
  const std::optional<manager::JobGrant>& grant(std::size_t job) const { return grants_[job]; }
  const std::string& refusal(std::size_t job) const { return refusals_[job]; }
  /// "root spine0, 2 level(s), 3 switch(es); ..." or "none (why)".
  std::string trees(std::size_t job) const;

  /// Decides how step `step` of `job` runs, starting at `now`; a streaming
  /// step takes the job's locks, or falls back when another job holds them.
  /// `asked` is what the run asks for: "auto", an algorithm that uses the
  /// switches (innet), which runs where `auto` could use them and falls back
  /// to the host algorithm where not, or a host algorithm, which runs as asked.
  StepDecision begin_step(std::size_t job, std::size_t step, Time now,
                          const std::string& asked = "auto");
  /// The step is over everywhere: its locks go back.
  void end_step(std::size_t job, std::size_t step, const StepDecision& decision, Time now);
  /// Every lock held so far, in the order they were taken.
  const std::vector<LockInterval>& locks() const { return locks_; }

 private:
  const JobSet& jobs_;
  manager::SwitchResources resources_;
  std::vector<std::optional<manager::JobGrant>> grants_;
  std::vector<std::string> refusals_;
  std::vector<LockInterval> locks_;
};

}  // namespace inca::cli
