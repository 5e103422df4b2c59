// The sweep behind `inca bench`: one collective per size and algorithm on a
// world (sim: virtual time; live: wall clock, median of several runs),
// checked against a reference reduction when payloads are carried, and set
// next to the cost model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench_collectives.hpp"
#include "bench_progress.hpp"
#include "inca/collective.hpp"
#include "inca/dtype.hpp"
#include "inca/status.hpp"
#include "inca/world.hpp"

namespace inca::cli {

enum class PayloadMode { automatic, on, off };

struct BenchOptions {
  FabricOptions fabric;
  /// Where progress goes while the sweep runs (`inca bench` on a terminal); null: nowhere.
  ProgressMeter* progress = nullptr;
  /// The collective every row runs; `algorithms` must implement it.
  Collective collective = Collective::allreduce;
  std::size_t min_bytes = 8;
  std::size_t max_bytes = 64u << 20;
  double step_factor = 2.0;
  /// auto, innet, the collective's host algorithm, or (all-reduce) any
  /// registered name.
  std::vector<std::string> algorithms{"innet", "ring"};
  Dtype dtype = Dtype::f32;
  ReduceOp op = ReduceOp::sum;
  PayloadMode payload = PayloadMode::automatic;
  /// Run nothing: each row is the cost model's time (docs/model.md, its
  /// error against the simulator), for planning at scales the simulator
  /// takes long to reach. Algorithms without a model are refused.
  bool analytic = false;
  /// In automatic mode, carry data while ranks x 2 x bytes stays below this.
  std::size_t data_budget_bytes = 256u << 20;
  /// Runs per size and algorithm; a row reports the median run (the lower
  /// middle one for an even count). Wall-clock fabrics need several.
  std::uint32_t iterations = 1;
  /// Show each row's counters (WorldStats): after the table, and as a
  /// "stats" key of each JSON row.
  bool stats = false;
  /// Switches fold children in a fixed order (bit-identical results).
  bool reproducible = false;
  /// Add innet_quantized rows (all-reduce, f32/f64 sum): their data has full
  /// mantissas and their check reports the error against the exact f64 sum.
  bool quantized = false;
  /// Start each run's collectives with the non-blocking calls (iallreduce,
  /// ...) and complete them with wait_all.
  bool nonblocking = false;
  /// Collectives started at once per run, each on its own buffers (as
  /// nccl-tests' -m): timed from the first start to the last completion;
  /// algbw counts all of them and model_us is that of running them one
  /// after the other. Above 1 implies nonblocking.
  std::uint32_t outstanding = 1;
  /// Test seam: called on every rank's data after its collective returned ok
  /// and before its result is checked (tests break a result through it and
  /// watch the row's check fail).
  std::function<void(std::uint32_t rank, CollectiveData& data)> result_hook;
};

/// One row, with the nccl-tests names. bytes is nccl-tests' S: the whole
/// buffer (reduce-scatter: n blocks sent; all-gather: n blocks received), 0
/// for barrier, whose algbw and busbw are 0.
struct BenchRow {
  std::size_t bytes = 0;
  std::size_t count = 0;
  Dtype dtype = Dtype::f32;
  ReduceOp op = ReduceOp::sum;
  std::string algorithm;
  std::uint32_t ranks = 0;
  double time_us = 0;
  double algbw_GBps = 0;
  double busbw_GBps = 0;
  std::uint64_t nic_tx_bytes = 0;
  std::optional<double> model_us;
  /// "exact" (results compared with the reference; barrier: no rank left
  /// before every rank entered), "timing", "quantized" (innet_quantized
  /// within its error bound; the note gives the error), or what went wrong.
  std::string check;
  std::string note;  ///< fallback explanation, when any
  /// How finely the row was simulated (segment: coarse, docs/model.md).
  SimMode model = SimMode::packet;
  /// Not simulated: time_us is the cost model's (BenchOptions::analytic);
  /// no NIC bytes, events or check.
  bool analytic = false;
  std::uint32_t outstanding = 1;  ///< collectives started at once per run (BenchOptions)
  WorldStats stats;  ///< what the row's run(s) did: retransmissions, drops, faults, recovery
};

struct BenchReport {
  std::string fabric;  ///< topology and tree description
  std::vector<BenchRow> rows;
  std::uint64_t events = 0;
  double wall_seconds = 0;
};

/// Parses "8", "4K", "64M", "1G" (binary multiples).
std::optional<std::size_t> parse_size(const std::string& text);
/// True for the checks of a row that ran correctly (exact, timing, quantized)
/// or was not run (analytic).
bool check_passed(const std::string& check);

/// Runs the sweep. Errors: invalid options, or a world that cannot be built.
Result<BenchReport> run_bench(const BenchOptions& options);

/// What produced a row: "packet", "segment" or "analytic".
std::string_view row_model(const BenchRow& row);

}  // namespace inca::cli
