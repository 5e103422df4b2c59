#include "bench_sweep.hpp"

#include "bench_collectives.hpp"
#include "bench_pattern.hpp"
#include "bench_quantized.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

#include <fmt/format.h>

#include "inca/algorithm.hpp"
#include "inca/communicator.hpp"
#include "inca/reduce.hpp"

namespace inca::cli {
namespace {

struct Measured {
  Time time = 0;
  std::uint64_t nic_tx = 0;
  std::string algorithm;
  std::string note;
  std::string check;
  WorldStats stats;
};

// Blocking: one collective on sets[0]. Non-blocking: one started on each
// set, then all waited for.
Status run_collectives(Communicator& comm, const BenchOptions& o, const CollectiveSize& size,
                       const CollectiveOptions& options, std::vector<CollectiveData>& sets) {
  if (!o.nonblocking && o.outstanding <= 1)
    return call_collective(o.collective, comm, size, o.dtype, o.op, options, sets[0]);
  std::vector<Request> requests;
  Status first;
  for (CollectiveData& set : sets) {
    auto r = start_collective(o.collective, comm, size, o.dtype, o.op, options, set);
    if (!r.ok()) {
      first = r.status();
      break;
    }
    requests.push_back(*r);
  }
  Status waited = comm.wait_all(requests);
  return first.ok() ? waited : first;
}

Measured measure_once(World& world, const BenchOptions& o, const std::string& algorithm,
                      const CollectiveSize& size, std::vector<CollectiveData>& sets) {
  const std::uint32_t ranks = world.size();
  const Collective c = o.collective;
  for (CollectiveData& set : sets) reset_collective_data(c, set);
  std::vector<Time> start(ranks, kNever), finish(ranks, 0);
  std::vector<std::string> errors(ranks);
  Measured m;
  std::uint64_t tx_before = 0;
  const WorldStats stats_before = world.stats();
  const AllreduceAlgorithm* chosen =
      c == Collective::allreduce ? find_allreduce(algorithm) : nullptr;
  Status run = world.run([&](Communicator& comm) {
    const auto r = static_cast<std::size_t>(comm.rank());
    // Set-up such as a split is not the collective's time: it runs first, and
    // a barrier lines the ranks up again before the clock starts.
    if (chosen && chosen->prepare && chosen->prepare(comm).ok()) (void)comm.barrier();
    if (r == 0) tx_before = world.nic_tx_bytes(0);
    start[r] = comm.now();
    Status s = run_collectives(comm, o, size,
                               {.algorithm = algorithm, .reproducible = o.reproducible}, sets);
    finish[r] = comm.now();
    if (o.result_hook && s.ok())
      for (CollectiveData& set : sets) o.result_hook(comm.rank(), set);
    if (!s.ok())
      errors[r] = s.to_string();
    else if (algorithm != kQuantizedAlgorithm)
      for (std::size_t k = 0; k < sets.size() && errors[r].empty(); ++k)
        errors[r] = check_collective(c, comm.rank(), size, sets[k]);
    if (r == 0) {
      m.algorithm = comm.last_algorithm();
      m.note = comm.last_note();
    }
  });
  const Time first_start = *std::min_element(start.begin(), start.end());
  const Time last_start = *std::max_element(start.begin(), start.end());
  const Time first_finish = *std::min_element(finish.begin(), finish.end());
  const Time last_finish = *std::max_element(finish.begin(), finish.end());
  // From the first rank's start to the last rank's finish (in the simulator
  // every rank starts at the same virtual time).
  m.time = last_finish - first_start;
  m.nic_tx = world.nic_tx_bytes(0) - tx_before;
  m.stats = world.stats() - stats_before;
  // A barrier has no data to compare; what it promises is that no rank
  // leaves before the last one entered.
  m.check = !sets[0].send.empty() || c == Collective::barrier ? "exact" : "timing";
  if (c == Collective::barrier && first_finish < last_start)
    m.check = "a rank left the barrier before every rank entered it";
  if (!run.ok()) m.check = run.to_string();
  for (std::uint32_t r = 0; r < ranks; ++r)
    if (!errors[r].empty()) {
      m.check = fmt::format("rank {}: {}", r, errors[r]);
      break;
    }
  return m;
}

// The median of o.iterations runs, or the first run that failed.
Measured measure(World& world, const BenchOptions& o, const std::string& algorithm,
                 const CollectiveSize& size, std::vector<CollectiveData>& sets) {
  std::vector<Measured> runs;
  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(1, o.iterations); ++i) {
    runs.push_back(measure_once(world, o, algorithm, size, sets));
    if (!check_passed(runs.back().check)) return runs.back();
  }
  std::sort(runs.begin(), runs.end(),
            [](const Measured& a, const Measured& b) { return a.time < b.time; });
  return runs[(runs.size() - 1) / 2];
}

// When the hosts' window, not a link or an ALU, sets an in-network
// all-reduce's pace: W chunks per round trip. Empty when it does not.
std::string window_bound_note(const ModelFabric& fabric, std::size_t bytes, std::size_t esize) {
  const InnetTiming t = model_innet(fabric, bytes, esize);
  if (std::string_view(t.bound) != "window" || t.chunks <= fabric.window) return {};
  ModelFabric unbound = fabric;
  unbound.window = std::numeric_limits<std::uint32_t>::max();
  const double stage_gap = model_innet(unbound, bytes, esize).gap_ps;
  const std::size_t payload = fabric.slot_payload / esize * esize;
  const double round_trip_us = t.round_trip_ps / 1e6;
  return fmt::format(
      "window-bound: {} chunks of {} B in flight per {:.2f} us round trip cap it at {:.1f} GB/s; "
      "{} would cover the bandwidth-delay product",
      fabric.window, payload, round_trip_us,
      static_cast<double>(fabric.window * payload) / (t.round_trip_ps / 1e12) / 1e9,
      stage_gap > 0 ? fmt::format("--window {}", static_cast<std::uint64_t>(
                                                     std::ceil(t.round_trip_ps / stage_gap)))
                    : std::string("a larger window"));
}

// The cost model's time of `algorithm` for `size` (sets of them one after
// the other), or nothing when it has no model.
std::optional<Time> model_time(const BenchOptions& o, const ModelFabric& fabric,
                               const std::string& algorithm, const CollectiveSize& size,
                               std::size_t sets) {
  const std::size_t esize = dtype_size(o.dtype);
  const auto model =
      o.collective == Collective::allreduce
          ? model_allreduce(algorithm, fabric, size.bytes, esize)
          : model_collective(o.collective, algorithm, fabric, size.model_bytes, esize);
  if (!model) return std::nullopt;
  return *model * static_cast<Time>(sets);
}

// A row of `algorithm` (`ran`: what it ran, when auto chose) that took
// `time` for `sets` collectives of `size`: the nccl-tests figures, the model
// beside them and, for innet, whether the window bound it.
BenchRow sized_row(const BenchOptions& o, const ModelFabric& fabric, const std::string& algorithm,
                   const std::string& ran, const CollectiveSize& size, Time time,
                   std::size_t sets) {
  BenchRow row;
  row.bytes = size.bytes;
  // nccl-tests counts the elements of S.
  row.count = size.bytes / dtype_size(o.dtype);
  row.dtype = o.dtype;
  row.op = o.op;
  // `auto` rows name the algorithm it chose, e.g. auto:innet.
  row.algorithm = algorithm == "auto" ? "auto:" + ran : algorithm;
  row.ranks = o.fabric.ranks;
  row.time_us = to_micros(time);
  // Outstanding collectives each moved S.
  row.algbw_GBps = time > 0 ? static_cast<double>(size.bytes * sets) / to_seconds(time) / 1e9 : 0;
  row.busbw_GBps = row.algbw_GBps * busbw_factor(o.collective, o.fabric.ranks);
  row.outstanding = o.outstanding;
  if (const auto model = model_time(o, fabric, ran, size, sets)) row.model_us = to_micros(*model);
  if (o.collective == Collective::allreduce && ran == "innet")
    row.note = window_bound_note(fabric, size.bytes, dtype_size(o.dtype));
  return row;
}

// Analytic mode: the row is the model's, nothing ran.
Result<BenchRow> analytic_row(const BenchOptions& o, World& world, const std::string& algorithm,
                              const CollectiveSize& size, std::size_t sets) {
  const ModelFabric fabric = world.model_fabric();
  const auto time = model_time(o, fabric, algorithm, size, sets);
  if (!time)
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("--sim-mode analytic: {} has no cost model for {} (auto chooses by running, "
                    "and plug-in algorithms bring none); simulate it",
                    algorithm, to_string(o.collective)));
  BenchRow row = sized_row(o, fabric, algorithm, algorithm, size, *time, sets);
  row.check = "analytic";
  row.analytic = true;
  return row;
}

}  // namespace

std::string_view row_model(const BenchRow& row) {
  return row.analytic ? std::string_view("analytic") : to_string(row.model);
}

bool check_passed(const std::string& check) {
  return check == "exact" || check == "timing" || check == "quantized" || check == "analytic";
}

std::optional<std::size_t> parse_size(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t pos = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(text, &pos);
  } catch (...) {
    return std::nullopt;
  }
  std::string suffix = text.substr(pos);
  std::size_t mult = 1;
  if (suffix == "K" || suffix == "k" || suffix == "KiB")
    mult = 1ull << 10;
  else if (suffix == "M" || suffix == "m" || suffix == "MiB")
    mult = 1ull << 20;
  else if (suffix == "G" || suffix == "g" || suffix == "GiB")
    mult = 1ull << 30;
  else if (!suffix.empty() && suffix != "B")
    return std::nullopt;
  if (text[0] == '-') return std::nullopt;
  return static_cast<std::size_t>(value) * mult;
}

Result<BenchReport> run_bench(const BenchOptions& o) {
  const Collective c = o.collective;
  if (collective_reduces(c)) INCA_RETURN_IF_ERROR(check_op(o.op, o.dtype));
  if (o.min_bytes > o.max_bytes)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("min bytes {} exceed max bytes {}", o.min_bytes, o.max_bytes));
  if (!(o.step_factor > 1.0))
    return make_error(StatusCode::invalid_argument, "step factor must be greater than 1");
  for (const std::string& a : o.algorithms) INCA_RETURN_IF_ERROR(check_collective_algorithm(c, a));
  if (o.outstanding < 1 || o.outstanding > 64)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("outstanding collectives {} outside 1..64", o.outstanding));
  const std::size_t sets = o.outstanding;
  const auto wall_start = std::chrono::steady_clock::now();
  const std::size_t esize = dtype_size(o.dtype);

  FabricOptions timing = o.fabric;
  timing.timing_only = true;
  if (o.progress)
    timing.progress = [meter = o.progress](std::uint64_t events, Time now) {
      meter->events(events, now);
    };
  FabricOptions data = timing;
  data.timing_only = false;
  data.sim_mode = SimMode::packet;  // segments carry no data
  std::unique_ptr<World> timing_world, data_world;
  auto world_for = [&](bool with_data) -> Result<World*> {
    auto& slot = with_data ? data_world : timing_world;
    if (!slot) {
      auto w = World::create(with_data ? data : timing);
      if (!w.ok()) return w.status();
      slot = std::move(*w);
    }
    return slot.get();
  };

  // Rows are weighed by their bytes (at least a packet's worth) for the ETA.
  const auto row_weight = [](std::size_t bytes) {
    return static_cast<double>(std::max<std::size_t>(bytes, 4096));
  };
  if (o.progress && !o.analytic) {  // an analytic sweep runs nothing to follow
    std::size_t rows = 0;
    double weight = 0;
    for (double size = static_cast<double>(o.min_bytes);
         size <= static_cast<double>(o.max_bytes) * 1.0000001; size *= o.step_factor) {
      rows += o.algorithms.size();
      weight += row_weight(static_cast<std::size_t>(size)) * o.algorithms.size();
      if (c == Collective::barrier) break;
    }
    o.progress->plan(rows, weight);
  }

  BenchReport report;
  for (double size = static_cast<double>(o.min_bytes);
       size <= static_cast<double>(o.max_bytes) * 1.0000001; size *= o.step_factor) {
    const CollectiveSize sized =
        size_collective(c, static_cast<std::size_t>(size), esize, o.fabric.ranks);
    const bool with_data =
        o.payload == PayloadMode::on ||
        (o.payload == PayloadMode::automatic &&
         (sized.send_bytes + sized.recv_bytes) * o.fabric.ranks * sets <= o.data_budget_bytes);
    auto world = world_for(with_data);
    if (!world.ok()) return world.status();
    if (report.fabric.empty()) {
      report.fabric = (*world)->describe();
      if (o.fabric.fabric == FabricKind::live)
        report.fabric = fmt::format(
                            "live fabric: a thread per rank and switch, wall-clock "
                            "time, median of {} runs\n",
                            std::max<std::uint32_t>(1, o.iterations)) +
                        report.fabric;
    }

    std::vector<CollectiveData> buffers(sets), full_mantissas(sets);
    if (with_data)
      buffers.assign(
          sets, make_collective_data(c, sized, o.fabric.ranks, o.dtype, o.op, fill_bench_pattern));
    for (const std::string& algorithm : o.algorithms) {
      const bool quantized = algorithm == kQuantizedAlgorithm;
      if (quantized && with_data && full_mantissas[0].send.empty())
        full_mantissas.assign(sets, make_collective_data(c, sized, o.fabric.ranks, o.dtype, o.op,
                                                         fill_full_mantissa));
      std::vector<CollectiveData>& data = quantized ? full_mantissas : buffers;
      if (o.analytic) {
        auto row = analytic_row(o, **world, algorithm, sized, sets);
        if (!row.ok()) return row.status();
        report.rows.push_back(std::move(*row));
        continue;
      }
      if (o.progress) {
        const auto expected = model_time(o, (*world)->model_fabric(), algorithm, sized, sets);
        o.progress->row_started(
            fmt::format("{} {} B", algorithm, sized.bytes), row_weight(sized.bytes),
            expected ? *expected * static_cast<Time>(std::max<std::uint32_t>(1, o.iterations)) : 0,
            (*world)->stats().events, (*world)->now());
      }
      Measured m = measure(**world, o, algorithm, sized, data);
      if (o.progress) o.progress->row_finished((*world)->stats().events);
      if (quantized && m.check == "exact") {
        const QuantizationReport q =
            quantization_error(data[0], sized.count, o.dtype,
                               (*world)->model_fabric().slot_payload / esize, o.fabric.ranks);
        m.check = q.within ? "quantized" : "error above the bound";
        m.note = q.note + (m.note.empty() ? "" : "; " + m.note);
      }
      const std::string& ran = m.algorithm.empty() ? algorithm : m.algorithm;
      BenchRow row = sized_row(o, (*world)->model_fabric(), algorithm, ran, sized, m.time, sets);
      row.nic_tx_bytes = m.nic_tx;
      row.check = m.check;
      if (!m.note.empty()) row.note = m.note + (row.note.empty() ? "" : "; " + row.note);
      row.model = (*world)->options().sim_mode;
      row.stats = m.stats;
      report.rows.push_back(std::move(row));
    }
    if (c == Collective::barrier) break;  // one row per algorithm: it moves no data
  }
  for (World* w : {timing_world.get(), data_world.get()})
    if (w) report.events += w->stats().events;
  report.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return report;
}

}  // namespace inca::cli
