// `inca run`'s engine: every job of a job file on one simulated fabric at
// once, where they contend for links and switch resources, then each job
// alone on the same fabric. Each job is a sub-communicator of one World over
// the fabric's hosts; its ranks run the job's workload (each step's
// collective `repeat` times, from its start time on), on the bench's input
// patterns so that every result is checked against a reference reduction.
// Which steps may use the switches is JobAdmission's decision.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bench_progress.hpp"
#include "bench_sweep.hpp"
#include "inca/job_description.hpp"
#include "inca/status.hpp"
#include "job_admission.hpp"

namespace inca::cli {

/// One workload step of one job, run with every job and alone.
struct JobStepRow {
  std::string job, tenant;
  std::size_t step = 0;  ///< index in the job's workload
  Collective collective = Collective::allreduce;
  std::uint64_t bytes = 0;  ///< nccl-tests' S (as `inca bench`)
  Dtype dtype = Dtype::f32;
  ReduceOp op = ReduceOp::sum;
  std::uint32_t ranks = 0, repeat = 0;
  double start_us = 0;    ///< when its first run began, from the run's beginning
  double time_us = 0;     ///< median over its runs: first rank's start to last rank's finish
  double alone_us = 0;    ///< the same with the job alone on the fabric (0: not run)
  double slowdown = 0;    ///< time_us / alone_us
  double algbw_GBps = 0;  ///< bytes / time
  double busbw_GBps = 0;  ///< algbw x the nccl-tests factor
  std::string algorithm;  ///< what ran ("auto:innet" when auto chose)
  std::string why;        ///< the admission's reason, then the communicator's note
  std::string trees;      ///< the job's trees (JobAdmission::trees)
  std::string alone_algorithm;
  std::string check;                ///< exact, timing (payload-free), or what went wrong
  SimMode model = SimMode::packet;  ///< how finely it was simulated (docs/model.md)
};

struct JobRunOptions {
  /// Every rank's buffers of every step together above this: payload-free
  /// (PayloadMode::automatic).
  std::size_t data_budget_bytes = std::size_t{256} << 20;
  /// automatic: carry data within the budget; on: always; off: never (timing only).
  PayloadMode payload = PayloadMode::automatic;
  /// The World's options other than the fabric: sim_mode and
  /// segment_packets above all. Segment mode applies to a payload-free run;
  /// one that carries data (automatic) runs in packet mode, and `payload` on
  /// with segment mode is refused (World::create's invalid_argument).
  FabricOptions fabric = {};
  /// What every step asks for (JobAdmission::begin_step): "auto", or an
  /// algorithm every step's collective implements.
  std::string algorithm = "auto";
  bool alone = true;                  ///< also run each job alone (the slowdown's baseline)
  ProgressMeter* progress = nullptr;  ///< one row per run
};

struct JobRunReport {
  std::vector<JobStepRow> rows;  ///< by job, then step
  /// Streaming locks of the run with every job, from the run's beginning.
  std::vector<LockInterval> locks;
  bool payload = true;  ///< false: payload-free (sizes too large to hold, or --payload off)
  SimMode model = SimMode::packet;  ///< the run's simulation mode
  std::uint64_t events = 0;         ///< simulator events, all runs
  /// The counters of the run with every job (retransmissions, drops, ...).
  WorldStats stats = {};
  double wall_seconds = 0;
  bool all_exact() const;
};

/// Runs `jobs` (placed on `hosts`, as jobs::place_jobs resolves them) on
/// `fabric`. invalid_argument when a job has no hosts or a step an invalid
/// dtype/op or an algorithm a step's collective lacks; failures of
/// collectives are rows' `check`, not an error.
Result<JobRunReport> run_jobs(const FabricDescription& fabric, const JobSet& jobs,
                              const std::vector<std::vector<std::uint32_t>>& hosts,
                              const JobRunOptions& options = {});

}  // namespace inca::cli
