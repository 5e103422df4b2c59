#include "job_runner.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "bench_collectives.hpp"
#include "bench_pattern.hpp"
#include "inca/communicator.hpp"
#include "inca/world.hpp"

namespace inca::cli {
namespace {

// One step of one job in one run: its buffers, every rank's start and finish
// of every repetition, and what ran.
struct StepRun {
  CollectiveSize size;
  CollectiveData* data = nullptr;             // shared by the runs (they run one after another)
  std::vector<std::vector<Time>> start, end;  // [repetition][rank]
  std::optional<StepDecision> decision;       // taken by the first rank to get there
  std::uint32_t ranks_done = 0;
  std::string algorithm, note, error;
};

struct RunState {
  std::vector<std::vector<StepRun>> steps;  // [job][step]
  std::string error;                        // the first rank's that failed outside a collective
  Time t0 = kNever;  // the run's beginning: the first rank out of the opening barrier
};

// Which job each world rank (fabric host) belongs to, and its rank there.
struct Membership {
  std::vector<int> job;
  std::vector<int> rank;
  std::vector<std::size_t> ranks_of;  // per job
};

Membership members_of(std::size_t hosts, const std::vector<std::vector<std::uint32_t>>& placed) {
  Membership m{std::vector<int>(hosts, -1), std::vector<int>(hosts, 0), {}};
  for (std::size_t j = 0; j < placed.size(); ++j) {
    m.ranks_of.push_back(placed[j].size());
    for (std::size_t r = 0; r < placed[j].size(); ++r) {
      m.job[placed[j][r]] = static_cast<int>(j);
      m.rank[placed[j][r]] = static_cast<int>(r);
    }
  }
  return m;
}

void run_workload(Communicator& comm, std::size_t j, const JobDescription& job, Time t0,
                  const std::string& asked, JobAdmission& admission, std::vector<StepRun>& steps) {
  const auto r = static_cast<std::uint32_t>(comm.rank());
  for (std::size_t s = 0; s < job.workload.size(); ++s) {
    const WorkloadStep& step = job.workload[s];
    StepRun& run = steps[s];
    if (t0 + step.start > comm.now()) comm.progress_for(t0 + step.start - comm.now());
    if (!run.decision) run.decision = admission.begin_step(j, s, comm.now(), asked);
    for (std::uint32_t rep = 0; rep < step.repeat; ++rep) {
      if (!run.data->send.empty()) reset_collective_data(step.collective, *run.data, r);
      run.start[rep][r] = comm.now();
      const Status st = call_collective(step.collective, comm, run.size, step.dtype, step.op,
                                        {.algorithm = run.decision->algorithm}, *run.data);
      run.end[rep][r] = comm.now();
      std::string wrong =
          st.ok() ? check_collective(step.collective, r, run.size, *run.data) : st.to_string();
      if (!wrong.empty() && run.error.empty())
        run.error = fmt::format("rank {}, run {}: {}", r, rep + 1, wrong);
      if (r == 0) {
        run.algorithm = comm.last_algorithm();
        run.note = comm.last_note();
      }
    }
    if (++run.ranks_done == static_cast<std::uint32_t>(comm.size()))
      admission.end_step(j, s, *run.decision, comm.now());
  }
}

// One run of the `active` jobs on `world`; each rank of a job runs its workload.
RunState run_once(World& world, const JobSet& set, const Membership& members,
                  const std::vector<bool>& active, const std::string& asked,
                  JobAdmission& admission, std::vector<std::vector<CollectiveData>>& data,
                  const std::vector<std::vector<CollectiveSize>>& sizes) {
  RunState state;
  state.steps.resize(set.jobs.size());
  for (std::size_t j = 0; j < set.jobs.size(); ++j) {
    const JobDescription& job = set.jobs[j];
    const std::size_t ranks = sizes[j].empty() ? 0 : members.ranks_of[j];
    for (std::size_t s = 0; s < job.workload.size(); ++s) {
      StepRun run;
      run.size = sizes[j][s];
      run.data = &data[j][s];
      run.start.assign(job.workload[s].repeat, std::vector<Time>(ranks, 0));
      run.end = run.start;
      state.steps[j].push_back(std::move(run));
    }
  }
  const Status ran = world.run([&](Communicator& comm) {
    const auto host = static_cast<std::size_t>(comm.rank());
    const int j = members.job[host];
    const bool mine = j >= 0 && active[static_cast<std::size_t>(j)];
    // Each job is a sub-communicator of the world; a barrier lines every
    // rank up so that start times count from one moment.
    auto sub = comm.split(mine ? j : -1, members.rank[host]);
    (void)comm.barrier();
    state.t0 = std::min(state.t0, comm.now());
    if (!sub.ok()) {
      if (state.error.empty()) state.error = sub.status().to_string();
      return;
    }
    if (!*sub) return;
    const auto job = static_cast<std::size_t>(j);
    run_workload(**sub, job, set.jobs[job], comm.now(), asked, admission, state.steps[job]);
  });
  if (!ran.ok() && state.error.empty()) state.error = ran.to_string();
  return state;
}

// Median over repetitions of the first rank's start to the last rank's finish.
Time median_time(const StepRun& run) {
  std::vector<Time> times;
  for (std::size_t rep = 0; rep < run.start.size(); ++rep)
    times.push_back(*std::max_element(run.end[rep].begin(), run.end[rep].end()) -
                    *std::min_element(run.start[rep].begin(), run.start[rep].end()));
  if (times.empty()) return 0;
  std::sort(times.begin(), times.end());
  return times[(times.size() - 1) / 2];
}

std::string ran_algorithm(const StepRun& run) {
  if (run.decision && run.decision->algorithm == "auto") return "auto:" + run.algorithm;
  return run.algorithm;
}

}  // namespace

bool JobRunReport::all_exact() const {
  return std::all_of(rows.begin(), rows.end(),
                     [](const JobStepRow& r) { return r.check == "exact" || r.check == "timing"; });
}

Result<JobRunReport> run_jobs(const FabricDescription& fabric, const JobSet& set,
                              const std::vector<std::vector<std::uint32_t>>& hosts,
                              const JobRunOptions& o) {
  const auto wall_start = std::chrono::steady_clock::now();
  std::vector<std::vector<CollectiveSize>> sizes(set.jobs.size());
  std::size_t data_bytes = 0;
  for (std::size_t j = 0; j < set.jobs.size(); ++j) {
    const JobDescription& job = set.jobs[j];
    if (hosts[j].empty())
      return make_error(
          StatusCode::invalid_argument,
          fmt::format("job '{}' has no hosts: its placement did not resolve", job.name));
    const auto ranks = static_cast<std::uint32_t>(hosts[j].size());
    for (const WorkloadStep& step : job.workload) {
      if (collective_reduces(step.collective)) INCA_RETURN_IF_ERROR(check_op(step.op, step.dtype));
      INCA_RETURN_IF_ERROR(check_collective_algorithm(step.collective, o.algorithm));
      sizes[j].push_back(
          size_collective(step.collective, step.bytes, dtype_size(step.dtype), ranks));
      const CollectiveSize& s = sizes[j].back();
      data_bytes += (s.send_bytes + s.recv_bytes) * ranks + s.recv_bytes * 2;
    }
  }
  JobRunReport report;
  report.payload = o.payload == PayloadMode::on ||
                   (o.payload == PayloadMode::automatic && data_bytes <= o.data_budget_bytes);
  FabricOptions options = o.fabric;
  options.timing_only = !report.payload;
  // Segments carry no data: a run that chose to carry it is simulated packet by packet.
  if (report.payload && o.payload == PayloadMode::automatic) options.sim_mode = SimMode::packet;
  if (o.progress)
    options.progress = [meter = o.progress](std::uint64_t events, Time now) {
      meter->events(events, now);
    };
  auto world = World::create(fabric, options);
  if (!world.ok()) return world.status();

  std::vector<std::vector<CollectiveData>> data(set.jobs.size());
  for (std::size_t j = 0; j < set.jobs.size(); ++j)
    for (std::size_t s = 0; s < set.jobs[j].workload.size(); ++s) {
      const WorkloadStep& step = set.jobs[j].workload[s];
      data[j].push_back(report.payload
                            ? make_collective_data(step.collective, sizes[j][s],
                                                   static_cast<std::uint32_t>(hosts[j].size()),
                                                   step.dtype, step.op, fill_bench_pattern)
                            : CollectiveData{});
    }

  const Membership members = members_of(fabric.hosts.size(), hosts);
  const std::size_t runs = 1 + (o.alone ? set.jobs.size() : 0);
  if (o.progress) o.progress->plan(runs, static_cast<double>(runs));
  auto run = [&](const std::string& label, const std::vector<bool>& active,
                 JobAdmission& admission) {
    if (o.progress)
      o.progress->row_started(label, 1.0, 0, (*world)->stats().events, (*world)->now());
    RunState state = run_once(**world, set, members, active, o.algorithm, admission, data, sizes);
    if (o.progress) o.progress->row_finished((*world)->stats().events);
    return state;
  };

  report.model = (*world)->options().sim_mode;
  const std::vector<bool> all(set.jobs.size(), true);
  JobAdmission together(fabric, set, hosts, all);
  const WorldStats before = (*world)->stats();
  const RunState shared = run("every job", all, together);
  report.stats = (*world)->stats() - before;
  if (!shared.error.empty()) return make_error(StatusCode::internal, shared.error);
  report.locks = together.locks();
  for (LockInterval& l : report.locks) {
    l.from -= shared.t0;
    if (l.to != kNever) l.to -= shared.t0;
  }

  for (std::size_t j = 0; j < set.jobs.size(); ++j) {
    const JobDescription& job = set.jobs[j];
    std::optional<RunState> alone;
    std::optional<JobAdmission> alone_admission;
    if (o.alone) {
      std::vector<bool> only(set.jobs.size(), false);
      only[j] = true;
      alone_admission.emplace(fabric, set, hosts, only);
      alone = run(job.name + " alone", only, *alone_admission);
      if (!alone->error.empty()) return make_error(StatusCode::internal, alone->error);
    }
    for (std::size_t s = 0; s < job.workload.size(); ++s) {
      const WorkloadStep& step = job.workload[s];
      const StepRun& ran = shared.steps[j][s];
      JobStepRow row;
      row.job = job.name;
      row.tenant = job.tenant;
      row.step = s;
      row.collective = step.collective;
      row.bytes = ran.size.bytes;
      row.dtype = step.dtype;
      row.op = step.op;
      row.ranks = static_cast<std::uint32_t>(hosts[j].size());
      row.repeat = step.repeat;
      Time first = kNever;
      for (const auto& rep : ran.start)
        first = std::min(first, *std::min_element(rep.begin(), rep.end()));
      row.start_us = ran.start.empty() ? 0 : to_micros(first - shared.t0);
      const Time t = median_time(ran);
      row.time_us = to_micros(t);
      row.algbw_GBps = t > 0 ? static_cast<double>(ran.size.bytes) / to_seconds(t) / 1e9 : 0;
      row.busbw_GBps = row.algbw_GBps * busbw_factor(step.collective, row.ranks);
      row.algorithm = ran_algorithm(ran);
      row.why = ran.decision ? ran.decision->why : "";
      if (!ran.note.empty()) row.why += "; " + ran.note;
      row.trees = together.trees(j);
      if (alone) {
        const StepRun& by_itself = alone->steps[j][s];
        row.alone_us = to_micros(median_time(by_itself));
        row.alone_algorithm = ran_algorithm(by_itself);
        row.slowdown = row.alone_us > 0 ? row.time_us / row.alone_us : 0;
      }
      row.check = !ran.error.empty() ? ran.error : report.payload ? "exact" : "timing";
      row.model = report.model;
      if (alone && ran.error.empty() && !alone->steps[j][s].error.empty())
        row.check = "alone: " + alone->steps[j][s].error;
      report.rows.push_back(std::move(row));
    }
  }
  report.events = (*world)->stats().events;
  report.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return report;
}

}  // namespace inca::cli
