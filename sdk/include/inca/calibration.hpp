// Fitting a fabric description to measurements (`inca calibrate`): the host
// per-message overheads, the per-link latency and the link rate that make the
// cost model agree best, by least squares on relative error, with measured
// all-reduce times from OSU's osu_allreduce, nccl-tests, or inca itself.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "inca/fabric_description.hpp"
#include "inca/status.hpp"
#include "inca/world.hpp"

namespace inca {

/// One measured all-reduce: its size, the algorithm that ran, its time.
struct Measurement {
  std::size_t bytes = 0;
  std::string algorithm;
  double time_us = 0;
  int line = 0;  ///< where it came from in its file
};

/// Reads a table of measurements. Formats, recognised by their content:
/// inca's JSON (`inca bench --format json`) and CSV (`--format csv`), any CSV
/// with columns for size/bytes, time_us/time and optionally algorithm, OSU
/// `osu_allreduce` output (size, average latency) and nccl-tests output (the
/// out-of-place time). Rows without an algorithm take `algorithm`. Errors
/// (config_error) name the file and line.
Result<std::vector<Measurement>> read_measurements(const std::string& path,
                                                   const std::string& algorithm = "ring");

/// What the fit may change; each is applied to every element of the fabric.
struct CalibrationSettings {
  bool fit_overhead = true;  ///< host send and receive overheads (two parameters)
  bool fit_latency = true;   ///< every link's latency
  bool fit_rate = true;      ///< every link's rate, scaled together
  int max_iterations = 60;
};

/// One measurement against the fitted model.
struct CalibrationRow {
  Measurement measured;
  double model_us = 0;
  double relative_error = 0;  ///< (model - measured) / measured
};

struct CalibrationResult {
  FabricDescription fabric;  ///< the description with the fitted values
  Time send_overhead = 0;    ///< fitted LogGP o of every host, sending
  Time recv_overhead = 0;    ///< ... and receiving
  Time latency = 0;          ///< fitted latency of every link
  double rate_scale = 1;     ///< fitted rate of every link / its rate in the input
  double host_gbps = 0;      ///< the fitted rate of host 0's first port
  std::vector<CalibrationRow> rows;
  double rms_relative_error = 0;
  int iterations = 0;
  /// False when swapping the two overheads changes no model time (all-reduce
  /// alone shows their sum and the larger one, not its side); the fit then
  /// keeps the input fabric's order.
  bool overhead_split_identified = true;
};

/// Fits `fabric` (with `options` for the rest: window, slots...) to
/// `measurements` (Levenberg-Marquardt on the relative residuals of
/// model_allreduce). invalid_argument when there is nothing to fit or an
/// algorithm has no model.
Result<CalibrationResult> calibrate(const FabricDescription& fabric, const FabricOptions& options,
                                    const std::vector<Measurement>& measurements,
                                    const CalibrationSettings& settings = {});

}  // namespace inca
